import CMPI
import Foundation

/// The processes of one job. Without a launcher this is one process (`SingleProcess`); under
/// `mpirun` or Slurm's `srun` it is MPI's world (`MPIProcessGroup`).
///
/// GMPS splits its work by index: item i (a task, a meta-batch slot) belongs to rank
/// i mod size, and everything else is replicated. Every rank computes the same task lists
/// from the same seeds, so the only traffic is sums (gradients, statistics) and small
/// summaries gathered or broadcast as bytes. Collectives are called by every rank in the same
/// order, from the thread that started the process group.
public protocol ProcessGroup: AnyObject, Sendable {
    /// 0..<size; rank 0 writes files and prints.
    var rank: Int { get }
    var size: Int { get }
    /// In place: each element becomes its sum over all ranks.
    func sum(_ values: inout [Float])
    func sum(_ values: inout [Double])
    /// Rank `root`'s bytes, on every rank (other ranks' `bytes` are ignored).
    func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8]
    /// Every rank's bytes, in rank order, on every rank.
    func allGather(_ bytes: [UInt8]) -> [[UInt8]]
    /// Returns once every rank has called it. Waiting ranks sleep rather than spin, so a rank
    /// that waits for rank 0 (writing a report, evaluating) leaves the core to it.
    func barrier()
}

extension ProcessGroup {
    public var isRoot: Bool { rank == 0 }

    /// This rank's items of 0..<count, in order: items go round-robin over ranks (item i is
    /// rank i mod size's).
    public func share(of count: Int) -> [Int] { Array(stride(from: rank, to: count, by: size)) }

    /// Sums several vectors over ranks in one collective.
    public func sum(_ parts: inout [[Float]]) {
        guard size > 1 else { return }
        var flat = parts.flatMap { $0 }
        sum(&flat)
        var offset = 0
        for i in parts.indices {
            parts[i] = Array(flat[offset..<(offset + parts[i].count)])
            offset += parts[i].count
        }
    }

    /// The value `make` computes on rank `root` (it runs there only), on every rank, as JSON
    /// (exact for floating-point values: Swift writes the shortest text that reads back to the
    /// same bits). An error thrown by `make` ends the job (see `Entry`).
    public func broadcast<Value: Codable>(from root: Int = 0, _ make: () throws -> Value) throws -> Value {
        let bytes = try rank == root ? [UInt8](JSONEncoder().encode(make())) : []
        return try JSONDecoder().decode(Value.self, from: Data(broadcast(bytes, from: root)))
    }

    /// Every rank's value, in rank order, on every rank.
    public func allGather<Value: Codable>(_ value: Value) throws -> [Value] {
        let decoder = JSONDecoder()
        return try allGather([UInt8](JSONEncoder().encode(value))).map { try decoder.decode(Value.self, from: Data($0)) }
    }
}

/// One process: every collective is the identity, so code written for ranks runs unchanged.
public final class SingleProcess: ProcessGroup {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func sum(_ values: inout [Float]) {}
    public func sum(_ values: inout [Double]) {}
    public func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8] { bytes }
    public func allGather(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }
    public func barrier() {}
}

/// MPI's world communicator (Open MPI). MPI's default error handler ends the whole job on a
/// communication failure, and `mpirun` ends it when any rank dies, so collectives here never
/// return errors to handle; a non-zero code is reported and aborts the job all the same.
public final class MPIProcessGroup: ProcessGroup {
    public let rank: Int
    public let size: Int

    /// The launcher's environment variables that mean "this process is one rank of a job":
    /// Open MPI's `mpirun`, and PMIx / PMI as Slurm's `srun` sets them.
    public static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"]

    /// Whether this process was started by an MPI launcher.
    public static var isLaunched: Bool {
        let environment = ProcessInfo.processInfo.environment
        return launcherVariables.contains { environment[$0] != nil }
    }

    /// This process's rank as the launcher announced it, before MPI starts (0 when not
    /// launched): lets only rank 0 print a usage error that every rank would hit.
    public static var launcherRank: Int {
        let environment = ProcessInfo.processInfo.environment
        for name in ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"] {
            if let value = environment[name].flatMap(Int.init) { return value }
        }
        return 0
    }

    /// Ranks on this machine (for sharing its cores), as the launcher announced it.
    public static var launcherLocalSize: Int {
        let environment = ProcessInfo.processInfo.environment
        for name in ["OMPI_COMM_WORLD_LOCAL_SIZE", "SLURM_NTASKS_PER_NODE", "MPI_LOCALNRANKS"] {
            if let value = environment[name].flatMap(Int.init), value >= 1 { return value }
        }
        return 1
    }

    /// Starts MPI (once per process; call `finish` before exiting).
    public init() throws {
        var provided: Int32 = 0, rank: Int32 = 0, size: Int32 = 0
        guard gmps_mpi_init(&provided) == MPI_SUCCESS, gmps_mpi_rank(&rank) == MPI_SUCCESS,
              gmps_mpi_size(&size) == MPI_SUCCESS else {
            throw ProcessGroupError.cannotStart
        }
        self.rank = Int(rank)
        self.size = Int(size)
    }

    /// Ends MPI after every rank got here; call once, last.
    public func finish() {
        barrier()
        _ = gmps_mpi_finalize()
    }

    /// Ends every rank of the job after printing `message` (with this rank) on standard error.
    public func abort(_ message: String, code: Int32 = 1) -> Never {
        FileHandle.standardError.write(Data("gmps-vision rank \(rank) of \(size): \(message)\nEnding the job on all ranks.\n".utf8))
        _ = gmps_mpi_abort(code)
        exit(code)
    }

    public func sum(_ values: inout [Float]) {
        let count = values.count
        check(values.withUnsafeMutableBufferPointer { gmps_mpi_allreduce_sum_float($0.baseAddress, Int32(count)) }, "sum")
    }

    public func sum(_ values: inout [Double]) {
        let count = values.count
        check(values.withUnsafeMutableBufferPointer { gmps_mpi_allreduce_sum_double($0.baseAddress, Int32(count)) }, "sum")
    }

    public func broadcast(_ bytes: [UInt8], from root: Int) -> [UInt8] {
        // The length first, so other ranks can size their buffers.
        var length = [Double(rank == root ? bytes.count : 0)]
        length.withUnsafeMutableBytes { raw in
            check(gmps_mpi_broadcast_bytes(raw.baseAddress, Int32(raw.count), Int32(root)), "broadcast")
        }
        var buffer = rank == root ? bytes : [UInt8](repeating: 0, count: Int(length[0]))
        let count = buffer.count
        check(buffer.withUnsafeMutableBytes { gmps_mpi_broadcast_bytes($0.baseAddress, Int32(count), Int32(root)) }, "broadcast")
        return buffer
    }

    public func allGather(_ bytes: [UInt8]) -> [[UInt8]] {
        var counts = [Int32](repeating: 0, count: size)
        check(counts.withUnsafeMutableBufferPointer { gmps_mpi_allgather_int(Int32(bytes.count), $0.baseAddress) }, "gather")
        var displacements = [Int32](repeating: 0, count: size)
        for r in 1..<max(size, 1) { displacements[r] = displacements[r - 1] + counts[r - 1] }
        var received = [UInt8](repeating: 0, count: Int(counts.reduce(0, +)))
        check(bytes.withUnsafeBytes { send in
            received.withUnsafeMutableBytes { receive in
                counts.withUnsafeBufferPointer { counts in
                    displacements.withUnsafeBufferPointer { displacements in
                        gmps_mpi_allgatherv_bytes(send.baseAddress, Int32(send.count), receive.baseAddress,
                                                  counts.baseAddress, displacements.baseAddress)
                    }
                }
            }
        }, "gather")
        return (0..<size).map { r in
            Array(received[Int(displacements[r])..<(Int(displacements[r]) + Int(counts[r]))])
        }
    }

    public func barrier() {
        var request: MPI_Request?
        check(gmps_mpi_ibarrier(&request), "barrier")
        var done: Int32 = 0
        while true {
            check(gmps_mpi_test(&request, &done), "barrier")
            if done != 0 { return }
            usleep(2_000)
        }
    }

    private func check(_ code: Int32, _ operation: String) {
        if code != MPI_SUCCESS { abort("MPI \(operation) failed with error code \(code).") }
    }
}

public enum ProcessGroupError: Error, CustomStringConvertible {
    case cannotStart
    case unsupported(String)

    public var description: String {
        switch self {
        case .cannotStart:
            return "MPI did not start (MPI_Init_thread failed). Check the Open MPI installation (mpirun --version) and launch with mpirun -np N."
        case let .unsupported(reason):
            return reason
        }
    }
}
