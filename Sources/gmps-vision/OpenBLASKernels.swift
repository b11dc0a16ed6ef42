import ConvNet
import Foundation

/// Starts the tool again with `OPENBLAS_CORETYPE` set when OpenBLAS did not recognise this CPU
/// and fell back to kernels several times slower than the ones the CPU can run (see
/// `BLAS.replacementCoreType`). OpenBLAS reads the variable only when it loads, hence the
/// restart: once, before anything else happens (under mpirun, before MPI starts), with the same
/// arguments and process id. An environment that sets the variable itself is left alone.
enum OpenBLASKernels {
    static func restartWithTheCPUsKernelsIfNeeded() {
        guard let core = BLAS.replacementCoreType else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // execv returned: it failed. Carry on with OpenBLAS's own kernels (slower, same results
        // apart from rounding), and say so once.
        FileHandle.standardError.write(Data("note: OpenBLAS runs its \(BLAS.coreName) kernels; restarting with OPENBLAS_CORETYPE=\(core) failed (\(String(cString: strerror(errno)))). Set it yourself for full speed.\n".utf8))
    }
}
