// swift-tools-version:6.0
//
// gmps-vision: Guided Meta-Policy Search from pixels, on a CPU.
//
// The package reads as the architecture of DESIGN.md section 2. Dependencies point one way:
//
//   Renderer   ConvNet            (no project dependencies)
//      ^          ^
//   VisionEnvs    |               (Renderer + MuJoCo physics)
//      ^          |
//      GMPSVision                 (experts, sampling, GMPS, baselines, evaluation)
//          ^
//      gmps-vision                (the CLI; thin)
//
import PackageDescription

let package = Package(
    name: "gmps-vision",
    products: [
        .executable(name: "gmps-vision", targets: ["gmps-vision"]),
        .library(name: "Renderer", targets: ["Renderer"]),
        .library(name: "ConvNet", targets: ["ConvNet"]),
        .library(name: "VisionEnvs", targets: ["VisionEnvs"]),
        .library(name: "GMPSVision", targets: ["GMPSVision"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // MARK: C libraries (Debian packages; see NATIVE.md and scripts/install-deps.sh)

        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas"),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng"),
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg"),
        // giflib, for the animated episodes of a run's report.
        .systemLibrary(name: "CGIF", path: "Sources/CGIF", pkgConfig: "libgif"),
        .systemLibrary(name: "CMuJoCo", path: "Sources/CMuJoCo"),
        // Open MPI, for task- and data-parallel runs under mpirun (see ProcessGroup).
        .systemLibrary(name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c"),
        // libjpeg reports errors by calling exit(); this C shim turns them into return codes.
        .target(name: "CJPEGErrors", dependencies: ["CJPEG"], path: "Sources/CJPEGErrors"),
        // ConvNet's AVX-512 kernels: direct convolution, matrix-vector products (Swift cannot target
        // one function at a CPU; each is called only after a run-time CPU check); and the choice of
        // OpenBLAS's kernel family by CPU features where OpenBLAS does not know the CPU model.
        .target(name: "CConvNetKernels", path: "Sources/CConvNetKernels"),

        // MARK: Leaves: pixels and networks

        .target(name: "Renderer", dependencies: ["CPNG", "CJPEGErrors", "CGIF"]),
        .target(name: "ConvNet", dependencies: ["COpenBLAS", "CConvNetKernels"]),

        // MARK: Worlds: MuJoCo physics seen through the Renderer

        // MJCF models live in the top-level assets/ folder (found at run time; see AssetLocator).
        .target(name: "VisionEnvs", dependencies: ["Renderer", "CMuJoCo"]),

        // MARK: Algorithms: experts, sampling, GMPS, baselines, evaluation

        .target(name: "GMPSVision", dependencies: ["VisionEnvs", "ConvNet", "CMPI"]),

        // MARK: The command-line tool

        .executableTarget(
            name: "gmps-vision",
            dependencies: [
                "GMPSVision", "VisionEnvs", "ConvNet", "Renderer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // MARK: Tests, one target per library target, plus CLI smoke tests

        // RendererTests read GIFs back with giflib's own decoder (DGifSlurp), not ours.
        .testTarget(name: "RendererTests", dependencies: ["Renderer", "CGIF"]),
        .testTarget(name: "ConvNetTests", dependencies: ["ConvNet"]),
        .testTarget(name: "VisionEnvsTests", dependencies: ["VisionEnvs"]),
        .testTarget(name: "GMPSVisionTests", dependencies: ["GMPSVision"]),
        // Golden --help texts are read from the source tree (#filePath), not bundled.
        .testTarget(name: "CLITests", dependencies: ["gmps-vision"], exclude: ["Golden"]),
    ]
)
