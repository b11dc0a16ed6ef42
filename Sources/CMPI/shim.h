// Open MPI from Swift. MPI_COMM_WORLD, the datatypes and the operations are macros that expand
// to casts of global symbols, which Swift cannot import, so each call the project makes is a
// small inline wrapper on the world communicator. Every wrapper returns MPI's error code.
#include <mpi.h>

static inline int gmps_mpi_initialized(int *flag) { return MPI_Initialized(flag); }
static inline int gmps_mpi_finalized(int *flag) { return MPI_Finalized(flag); }

// Only the thread that initialised MPI calls it, one call at a time (worker threads never do).
static inline int gmps_mpi_init(int *provided) {
    return MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, provided);
}
static inline int gmps_mpi_finalize(void) { return MPI_Finalize(); }
static inline int gmps_mpi_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }

static inline int gmps_mpi_rank(int *rank) { return MPI_Comm_rank(MPI_COMM_WORLD, rank); }
static inline int gmps_mpi_size(int *size) { return MPI_Comm_size(MPI_COMM_WORLD, size); }

// In place: values[i] becomes the sum of values[i] over all ranks.
static inline int gmps_mpi_allreduce_sum_float(float *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static inline int gmps_mpi_allreduce_sum_double(double *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

static inline int gmps_mpi_broadcast_bytes(void *bytes, int count, int root) {
    return MPI_Bcast(bytes, count, MPI_BYTE, root, MPI_COMM_WORLD);
}

// counts[r] = value on rank r.
static inline int gmps_mpi_allgather_int(int value, int *counts) {
    return MPI_Allgather(&value, 1, MPI_INT, counts, 1, MPI_INT, MPI_COMM_WORLD);
}
// Rank r's `count` bytes land at received + displacements[r].
static inline int gmps_mpi_allgatherv_bytes(const void *bytes, int count, void *received,
                                            const int *counts, const int *displacements) {
    return MPI_Allgatherv(bytes, count, MPI_BYTE, received, counts, displacements, MPI_BYTE, MPI_COMM_WORLD);
}

// A barrier that can be waited on without spinning: start it, then test it now and then.
static inline int gmps_mpi_ibarrier(MPI_Request *request) { return MPI_Ibarrier(MPI_COMM_WORLD, request); }
static inline int gmps_mpi_test(MPI_Request *request, int *done) {
    return MPI_Test(request, done, MPI_STATUS_IGNORE);
}
