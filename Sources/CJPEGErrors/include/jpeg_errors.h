// A libjpeg writer whose errors come back as return codes instead of exit().
//
// libjpeg's default error manager calls exit() on any error. This shim installs an
// error manager that longjmps back to the caller, releases everything it allocated and
// copies libjpeg's own message into `message`.
#ifndef GMPS_JPEG_ERRORS_H
#define GMPS_JPEG_ERRORS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Compresses an interleaved RGB8 image (`height` rows of `width * 3` bytes) into memory.
/// On success returns 0, sets `*out` to a malloc'ed buffer of `*out_size` bytes that the
/// caller frees with `gmps_jpeg_free`. On failure returns non-zero and writes a
/// NUL-terminated reason into `message` (at most `message_capacity` bytes).
int gmps_jpeg_compress_rgb(const uint8_t *rgb, int width, int height, int quality,
                           unsigned char **out, unsigned long *out_size,
                           char *message, size_t message_capacity);

/// Frees a buffer returned by `gmps_jpeg_compress_rgb`.
void gmps_jpeg_free(unsigned char *buffer);

#ifdef __cplusplus
}
#endif

#endif
