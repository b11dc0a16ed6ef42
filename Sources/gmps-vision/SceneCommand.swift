import ArgumentParser
import Foundation
import Renderer

/// `gmps-vision scene`: renders the push-like scene to an image file.
struct SceneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scene",
        abstract: "Render the push-like scene (table, block, gripper) to an image file."
    )

    @OptionGroup var folder: OutputFolderOption

    @Option(help: "Image size as HxW, e.g. 48x64.") var size = ImageSize(height: 240, width: 320)

    @Flag(help: "Draw projected shadows on the table.") var shadows = false

    @Option(help: "Supersampling factor per axis for anti-aliasing (1 = off, at most 4).") var supersampling = 1

    @Option(help: "Image file format: png or jpeg.") var format = ImageFormat.png

    func validate() throws {
        try size.check(atMost: ImageSize.largestPictureSide)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw ValidationError("--out \(folder.path) is a file; --out names the folder push.\(format.rawValue) is written into.")
        }
        guard (1...4).contains(supersampling) else {
            throw ValidationError("--supersampling must be 1, 2, 3 or 4; got \(supersampling).")
        }
    }

    func run() throws {
        let out = folder.path
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let options = RenderOptions(shadows: shadows, supersampling: supersampling)
        let push = PushLikeScene(width: size.width, height: size.height, options: options)
        let image = Rasterizer().render(push.scene)
        let path = URL(fileURLWithPath: out).appendingPathComponent("push.\(format.rawValue)").path
        switch format {
        case .png: try PNGFile.write(image, to: path)
        case .jpeg: try JPEGFile.write(image, to: path)
        }
        print(path)
    }
}
