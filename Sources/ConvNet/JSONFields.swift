import Foundation

/// Top-level fields of JSON objects, compared by key: how a stored file (a network's
/// architecture, a run's configuration) differs from the one at hand.
public enum JSONFields {
    /// The fields whose values differ, sorted by key, each value as compact key-sorted JSON
    /// ("absent" for a missing key); nil when either is not a JSON object.
    ///
    ///     differences(#"{"a": 1, "b": 2}"#, #"{"a": 1, "b": 3}"#)   // [("b", "2", "3")]
    public static func differences(_ first: Data, _ second: Data) -> [(key: String, first: String, second: String)]? {
        guard let a = try? JSONSerialization.jsonObject(with: first) as? [String: Any],
              let b = try? JSONSerialization.jsonObject(with: second) as? [String: Any] else { return nil }
        return Set(a.keys).union(b.keys).sorted().compactMap { key in
            let (x, y) = (text(a[key]), text(b[key]))
            return x == y ? nil : (key, x, y)
        }
    }

    /// The keys of a JSON object; nil when `data` is not one.
    public static func keys(_ data: Data) -> Set<String>? {
        (try? JSONSerialization.jsonObject(with: data) as? [String: Any]).map { Set($0.keys) }
    }

    private static func text(_ value: Any?) -> String {
        guard let value else { return "absent" }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }
}
