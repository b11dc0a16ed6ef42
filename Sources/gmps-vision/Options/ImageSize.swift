import ArgumentParser

/// An image size written `HxW` on the command line, e.g. `48x64` (height first, as in H x W).
struct ImageSize: ExpressibleByArgument, CustomStringConvertible, Equatable {
    var height: Int
    var width: Int

    init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let height = Int(parts[0]), let width = Int(parts[1]),
              (1...4096).contains(height), (1...4096).contains(width) else { return nil }
        self.init(height: height, width: width)
    }

    var description: String { "\(height)x\(width)" }

    static var defaultValueDescription: String { "HxW" }
}

/// The image file format of dumped frames.
enum ImageFormat: String, ExpressibleByArgument, CaseIterable {
    case png
    case jpeg
}
