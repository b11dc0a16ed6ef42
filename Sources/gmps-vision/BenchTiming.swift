import Foundation

/// Median throughput of `repetitions` timed runs of `work`, after one untimed warm-up run.
/// `work` returns how many items (frames, images, steps) it processed.
func medianThroughput(repetitions: Int, _ work: () -> Int) -> Double {
    _ = work()
    var rates: [Double] = []
    for _ in 0..<max(repetitions, 1) {
        let start = DispatchTime.now().uptimeNanoseconds
        let items = work()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        rates.append(Double(items) / max(seconds, 1e-9))
    }
    return median(rates)
}

/// The middle value (the mean of the two middle values for an even count).
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted(), middle = sorted.count / 2
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// One JSON object on a line, keys sorted, for `--json` output.
func printJSON(_ object: [String: Any]) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// The 1-minute load average from /proc/loadavg (Linux), read after the measurements, so that
/// a reader can tell figures taken on a busy machine.
func oneMinuteLoadAverage() -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
          let first = text.split(separator: " ").first else { return nil }
    return Double(first)
}
