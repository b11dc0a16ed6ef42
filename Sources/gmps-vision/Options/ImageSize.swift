import ArgumentParser

/// An image size written `HxW` on the command line, e.g. `48x64` (height first, as in H x W).
struct ImageSize: ExpressibleByArgument, CustomStringConvertible, Equatable {
    var height: Int
    var width: Int

    init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    /// Any positive HxW (up to a million per side, so H·W·channels cannot overflow); each
    /// command bounds it with `check(atMost:)`, naming its limit.
    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let height = Int(parts[0]), let width = Int(parts[1]),
              (1...1_000_000).contains(height), (1...1_000_000).contains(width) else { return nil }
        self.init(height: height, width: width)
    }

    /// The largest side of a picture for people (`scene`, `render`): 4096 (64 MB of pixels).
    static let largestPictureSide = 4096

    /// Throws naming the limit when a side exceeds `limit`.
    func check(atMost limit: Int, option: String = "--size") throws {
        guard height > limit || width > limit else { return }
        throw ValidationError("\(option) \(self) is larger than the limit of \(limit)x\(limit); use at most \(limit) per side.")
    }

    var description: String { "\(height)x\(width)" }

    static var defaultValueDescription: String { "HxW" }
}

/// The image file format of dumped frames.
enum ImageFormat: String, ExpressibleByArgument, CaseIterable {
    case png
    case jpeg
}
