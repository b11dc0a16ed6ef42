import ArgumentParser

/// A benchmark command, and how many timed repetitions it takes the median of unless told.
protocol Benchmark {
    static var defaultRepetitions: Int { get }
}

/// `--repetitions` of a benchmark, defaulting to the benchmark's own count.
struct RepetitionsOption<Bench: Benchmark>: ParsableArguments {
    @Option(help: "Timed repetitions; the median is reported.") var repetitions = Bench.defaultRepetitions

    func validate() throws {
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1; got \(repetitions).") }
    }
}
