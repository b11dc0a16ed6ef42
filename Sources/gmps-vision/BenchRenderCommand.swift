import ArgumentParser
import Renderer

/// `gmps-vision bench render`: frames per second of the software rasterizer on one thread.
struct BenchRenderCommand: ParsableCommand, Benchmark {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Frames per second of the renderer on the push-like scene, one thread.",
        discussion: """
            Renders the push-like scene straight into a Float32 CHW buffer (the training loop's \
            path) while the gripper moves, and reports the median of several timed repetitions. \
            With --json, one JSON object for 64x64 without shadows or anti-aliasing.
            """
    )

    static let defaultRepetitions = 7

    @OptionGroup var output: JSONOption

    @OptionGroup var timing: RepetitionsOption<Self>

    @Option(help: "Frames per repetition.") var frames = 4000

    func validate() throws {
        guard frames >= 1 else { throw ValidationError("--frames must be at least 1; got \(frames).") }
    }

    var repetitions: Int { timing.repetitions }

    struct Case {
        var height: Int
        var width: Int
        var shadows = false
        var supersampling = 1
    }

    func run() throws {
        if output.json {
            let fps = measure(Case(height: 64, width: 64))
            try printJSON([
                "scene": "push-like", "width": 64, "height": 64, "threads": 1,
                "shadows": false, "supersampling": 1, "output": "chw-float32",
                "repetitions": repetitions, "frames_per_repetition": frames,
                "frames_per_second": fps.rounded(),
            ])
            return
        }
        let cases = [
            Case(height: 64, width: 64),
            Case(height: 48, width: 64),
            Case(height: 128, width: 128),
            Case(height: 64, width: 64, shadows: true),
            Case(height: 64, width: 64, supersampling: 2),
            Case(height: 64, width: 64, shadows: true, supersampling: 2),
            Case(height: 48, width: 64, shadows: true, supersampling: 2),
        ]
        print("push-like scene, one thread, CHW Float32 output, median of \(repetitions) x \(frames) frames")
        print("size      shadows  supersampling  frames/s   µs/frame")
        for benchCase in cases {
            let fps = measure(benchCase)
            let size = "\(benchCase.height)x\(benchCase.width)"
            print(size.padding(toLength: 10, withPad: " ", startingAt: 0)
                  + (benchCase.shadows ? "on " : "off").padding(toLength: 9, withPad: " ", startingAt: 0)
                  + "\(benchCase.supersampling)".padding(toLength: 15, withPad: " ", startingAt: 0)
                  + String(Int(fps.rounded())).padding(toLength: 11, withPad: " ", startingAt: 0)
                  + String(format: "%.1f", 1e6 / fps))
        }
    }

    /// Frames per second for one case; the gripper sweeps across the table as in a rollout.
    private func measure(_ benchCase: Case) -> Double {
        let options = RenderOptions(shadows: benchCase.shadows, supersampling: benchCase.supersampling)
        var push = PushLikeScene(width: benchCase.width, height: benchCase.height, options: options)
        let rasterizer = Rasterizer()
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 3 * benchCase.height * benchCase.width)
        defer { buffer.deallocate() }
        let frameCount = frames
        return medianThroughput(repetitions: repetitions) {
            for frame in 0..<frameCount {
                let phase = Float(frame % 200) / 200
                push.moveGripper(to: [-0.12 + 0.24 * phase, 0.5 + 0.2 * phase, 0.04 + 0.04 * phase])
                rasterizer.renderCHW(push.scene, into: buffer)
            }
            return frameCount
        }
    }
}
