// swift-tools-version: 6.0
import PackageDescription

// Layout (dependencies point down only; Sources/README.md has the whole map):
//   mlv (entry point) -> MLVCommands (one file per command, renderers, the exit-status table)
//     -> MLVCore (workspace, pointers, snapshots, checkout, status, diff, run)
//       -> MLVRemote (directory, S3 and in-memory transports) -> MLVStore, MLVS3
//       -> MLVStore (chunker, packs, index, layout, maintenance, transport + sync) -> MLVZstd -> CZstd
//       -> MLVGit (the only importer of libgit2) -> CGit2
//       -> MLVS3 (HTTP over libcurl, SigV4, credentials) -> CCurl
//         -> MLVSystem (file descriptors, atomic writes, syscalls, direct I/O, locks,
//                       SHA-256 over libcrypto, error categories) -> CCrypto
// Linux only: the system layer calls glibc (syncfs, copy_file_range, preadv2, O_DIRECT).
let package = Package(
    name: "mlv",
    products: [
        .executable(name: "mlv", targets: ["mlv"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2",
                       providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"])]),
        .target(name: "MLVSystem", dependencies: ["CCrypto"]),
        .target(name: "MLVZstd", dependencies: ["CZstd", "MLVSystem"]),
        .target(name: "MLVGit", dependencies: ["CGit2", "MLVSystem"]),
        .target(name: "MLVStore", dependencies: ["MLVSystem", "MLVZstd"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        // Release builds skip dynamic exclusivity checks in the hot loops (CSV parsing, chunk
        // scanning): measured 20 % of a diff's time; debug builds and tests keep them.
        // S3 client: HTTP over libcurl, SigV4, AWS credentials. Knows nothing of mlv's layout.
        .target(name: "MLVS3", dependencies: ["CCurl", "MLVSystem"]),
        // Remotes: the Transport implementations (MLVStore's protocol) for a folder, an S3
        // bucket, and memory (tests). Knows the layout only through MLVStore's Layout.
        .target(name: "MLVRemote", dependencies: ["MLVStore", "MLVS3", "MLVSystem"]),
        // Parquet's footer and Thrift compact encoding: reads bytes handed to it, knows nothing of
        // mlv (MLVSystem for its error categories only).
        .target(name: "MLVParquet", dependencies: ["MLVSystem"]),
        .target(name: "MLVCore", dependencies: ["MLVSystem", "MLVStore", "MLVRemote", "MLVGit", "MLVS3", "MLVParquet", "Yams"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        .target(name: "MLVCommands", dependencies: [
            "MLVCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "mlv", dependencies: ["MLVCommands"]),
        .target(name: "MLVTestSupport", path: "Tests/MLVTestSupport"),
        .testTarget(name: "MLVStoreTests", dependencies: ["MLVStore", "MLVSystem", "MLVTestSupport"]),
        .testTarget(name: "MLVSystemTests", dependencies: ["MLVSystem"]),
        .testTarget(name: "MLVS3Tests", dependencies: ["MLVS3", "MLVSystem"]),
        .testTarget(name: "MLVParquetTests", dependencies: ["MLVParquet"], exclude: ["Fixtures"]),
        .testTarget(name: "MLVGitTests", dependencies: ["MLVGit", "MLVSystem"]),
        .testTarget(name: "MLVRemoteTests", dependencies: ["MLVRemote", "MLVStore", "MLVSystem", "MLVTestSupport"]),
        .testTarget(name: "MLVCoreTests", dependencies: ["MLVCore", "MLVSystem", "MLVStore", "MLVGit", "MLVRemote", "MLVTestSupport"]),
        .testTarget(name: "MLVCommandsTests", dependencies: ["MLVCommands", "MLVCore", "MLVStore", "MLVTestSupport"]),
        // Reads Sources/ and Package.swift only: the module map of Sources/README.md.
        .testTarget(name: "ArchitectureTests"),
        .testTarget(name: "EndToEndTests", dependencies: ["MLVCore", "MLVS3", "MLVSystem", "MLVStore", "MLVTestSupport"]),
    ]
)

// The libFuzzer harness (Tests/Fuzz/run.sh): declared only when MLV_FUZZ is set, because it
// links libFuzzer's `main` and builds only with -sanitize=fuzzer.
if Context.environment["MLV_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "mlv-fuzz", dependencies: ["MLVCore", "MLVStore", "MLVSystem", "MLVParquet"], path: "Tests/Fuzz/Harness"))
}
