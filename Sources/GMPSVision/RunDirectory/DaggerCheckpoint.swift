import ConvNet
import Foundation

/// DAgger's relabelled states in a run directory, so that a resumed run trains on the same
/// data as an uninterrupted one. One file per iteration that added any, written before that
/// iteration's checkpoint (a checkpoint at iteration k implies the files of iterations < k):
///   `dagger/iteration-NNNN.safetensors`   (NNNN 0-based), metadata "tasks": "t0,t1,…"
///   for the k-th addition: `k.images` U8 (n, 3·H·W), `k.hands` F32 (n, 3), `k.actions` F32 (n, A)
public enum DaggerCheckpoint {
    public static func fileName(iteration: Int) -> String { String(format: "dagger/iteration-%04d.safetensors", iteration) }

    /// Writes the samples `iteration` added, in the order they were appended; returns the
    /// file's name and checksum, for the checkpoint to record.
    @discardableResult
    public static func save(_ additions: [(task: Int, data: ImitationData)], iteration: Int,
                            in run: RunDirectory) throws -> (file: String, checksum: String) {
        var tensors: [(name: String, tensor: Safetensors.StoredTensor)] = []
        for (k, addition) in additions.enumerated() {
            let data = addition.data, n = data.count
            tensors += [("\(k).images", .u8(shape: [n, data.imageCount], bytes: data.images)),
                        ("\(k).hands", .f32(shape: [n, 3], values: data.hands)),
                        ("\(k).actions", .f32(shape: [n, data.actionCount], values: data.actions))]
        }
        let file = Safetensors.Contents(tensors: tensors, metadata: ["iteration": "\(iteration)",
                                                                     "tasks": additions.map { String($0.task) }.joined(separator: ",")])
        let name = fileName(iteration: iteration)
        return (name, try run.write(try Safetensors.encode(file, layout: .sortedKeys), to: name))
    }

    /// Every task's DAgger data after `iterations` iterations: the saved additions replayed in
    /// order. With `checksums` (the checkpoint's record), exactly the recorded files, verified;
    /// without (a checkpoint from before records), the files that are there.
    public static func load(from run: RunDirectory, iterations: Int, taskCount: Int, imageCount: Int,
                            actionCount: Int = 3, checksums: [String: String]? = nil) throws -> [ImitationData] {
        var dagger = (0..<taskCount).map { _ in ImitationData(imageCount: imageCount, actionCount: actionCount) }
        let names = (0..<max(iterations, 0)).map(fileName(iteration:))
        for name in names where checksums.map({ $0[name] != nil }) ?? run.exists(name) {
            let path = run.file(name).path
            func bad(_ problem: String) -> RunDirectory.Failure {
                .damaged(path: path, problem: "\(problem); the DAgger data of this run is damaged, so resuming would train on other data than the run did")
            }
            let bytes: Data
            do { bytes = try run.read(name, checksum: checksums?[name]) } catch RunDirectory.Failure.damaged(_, let problem) {
                throw bad(problem)
            }
            let file: Safetensors.Contents
            do { file = try Safetensors.parse(bytes, path: path) } catch { throw bad("not a tensor file (\(error))") }
            let tasks = (file.metadata["tasks"] ?? "").split(separator: ",").map { Int($0) }
            for (k, task) in tasks.enumerated() {
                guard let task, (0..<taskCount).contains(task),
                      let images = file.tensor(named: "\(k).images"), let imageBytes = images.bytes, images.shape.last == imageCount,
                      let hands = file.tensor(named: "\(k).hands"), let handValues = hands.floats,
                      let actions = file.tensor(named: "\(k).actions"), let actionValues = actions.floats,
                      actions.shape.last == actionCount,
                      images.shape.first == hands.shape.first, hands.shape.first == actions.shape.first else {
                    throw bad("addition \(k) does not fit this run (\(taskCount) tasks, \(imageCount) pixel values per image)")
                }
                dagger[task].append(contentsOf: ImitationData(
                    images: imageBytes, hands: handValues, actions: actionValues,
                    imageCount: imageCount, actionCount: actionCount))
            }
        }
        return dagger
    }
}
