#include <mujoco/mujoco.h>

// Installs MuJoCo's warning and error handlers (globals that Swift 6 cannot assign safely).
static inline void gmps_mujoco_set_handlers(void (*warning)(const char *), void (*error)(const char *)) {
    mju_user_warning = warning;
    mju_user_error = error;
}
