// libFuzzer harness for mlv's parsers of untrusted bytes (Tests/Fuzz/run.sh builds and runs
// it; Package.swift declares it only when MLV_FUZZ is set, since libFuzzer brings `main`).
// One binary, the parser chosen by MLV_FUZZ_TARGET. Errors are expected; crashes, traps,
// hangs and memory blow-ups are what the fuzzer looks for.
import MLVSystem
import Glibc
@testable import MLVCore
@testable import MLVStore
import MLVParquet

let target: String = getenv("MLV_FUZZ_TARGET").map { String(cString: $0) } ?? "pointer"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    switch target {
    case "pointer":
        _ = try? Pointer(parsing: bytes, path: "fuzz.mlv")
    case "config":
        _ = try? Config.parse(bytes)
    case "tree":
        _ = try? Tree(decoding: bytes, id: ObjectID.hash(bytes))
    case "manifest":
        _ = try? FileManifest(decoding: bytes, id: ObjectID.hash(bytes))
    case "index":
        _ = try? decodeIndex(bytes, path: "fuzz.idx")
    case "csv":
        for sep in [UInt8(ascii: ","), UInt8(ascii: "\t")] {
            guard let r = try? TableReader(stream: MemoryStream(bytes), name: "fuzz.csv", separator: sep) else { continue }
            while (try? r.next()) == true {}
        }
    case "metrics":
        for name in ["m.json", "m.yaml", "m.csv"] { _ = try? flattenMetrics(bytes, path: name) }
        // Run records are read with the same JSON reader, from committed (untrusted) files.
        if let r = RunRecord(json: bytes) { _ = try? JSONOutput.encode(r, pretty: true) }
    case "features":
        _ = try? FeatureSet.parse(bytes, path: "features.yaml")
    case "safetensors":
        _ = try? SafetensorsHeader.parse(prefix: bytes, path: "m.safetensors")
    case "gate":
        _ = try? Gate(parsing: String(decoding: bytes, as: UTF8.self))
    case "delta":
        fuzzPack(bytes)
    case "records":
        fuzzRecordScan(bytes)
    case "parquet":
        // A whole file (seeds: pyarrow's, MLVParquetTests/Fixtures): its tail, then its footer.
        if let range = try? ParquetFooter.metadataRange(fileSize: UInt64(bytes.count), tail: Array(bytes.suffix(8))) {
            _ = try? ParquetMetadata(decoding: Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)]))
        }
        _ = try? ParquetMetadata(decoding: bytes)
    default:
        fatalError("MLV_FUZZ_TARGET=\(target) is not a fuzz target")
    }
    return 0
}

/// Where "delta" writes each input: a pack file is read through a file handle.
let packPath = "/dev/shm/mlv-fuzz-\(getpid()).pack"
nonisolated(unsafe) var packFileMade = false

/// The bytes as a pack file (seeds: real packs holding deltas and their bases, made by
/// `DeltaFuzzSeeds` in MLVStoreTests): scanned and verified as fetch and fsck verify a
/// download (every delta decoded through its bases in the same pack), then every chunk
/// read through the one decoder, as checkout reads. A crafted pack may claim any base,
/// depth, size or transform: errors are expected, traps, hangs and unbounded memory not.
func fuzzPack(_ bytes: [UInt8]) {
    if !packFileMade {
        packFileMade = true
        atexit { _ = unlink(packPath) }
    }
    let fd = open(packPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { fatalError("cannot write \(packPath)") }
    _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    guard let h = try? FileHandleFD.openRead(packPath) else { return }
    var unresolved = 0
    _ = try? verifyPack(h, bases: nil) { _, _ in unresolved += 1 }
    guard let entries = try? scanPack(h) else { return }
    let reader = ChunkReader(source: PackOverlay([(h, entries)], fallback: nil))
    for e in entries.prefix(64) where e.rawLength <= PackFormat.maxDeltaObjectSize {
        var out = [UInt8](repeating: 0, count: Int(e.rawLength))
        _ = try? out.withUnsafeMutableBytes { try reader.read(e.id, into: $0) }
        if e.encoding == .delta { _ = try? readDeltaHeader(h, e) }
    }
}

/// SwiftPM links an executable's entry point under the name `<product>_main`; libFuzzer's own
/// `main` is not used, so this hands control to its driver (LLVMFuzzerRunDriver), found with
/// dlsym to call it with the C convention.
@_cdecl("mlv_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    typealias Driver = @convention(c) (UnsafeMutablePointer<CInt>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                                       @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
    guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "LLVMFuzzerRunDriver") else {
        fatalError("LLVMFuzzerRunDriver not linked: build with -sanitize=fuzzer (Tests/Fuzz/run.sh)")
    }
    var c = argc
    var v = argv
    return unsafeBitCast(sym, to: Driver.self)(&c, &v, fuzzOne)
}

/// "records": the 64-byte record scan (`QuoteScanner.scanWords`) against the byte scan, its
/// definition, from every state the byte scan can be in at a chunk's start (reached by
/// scanning a prefix of the input, cut where its first byte says) and with both separators.
/// Where the fast scan answers it must leave exactly the byte scan's state, count and
/// records; where it declines it must have changed nothing. A difference traps.
func fuzzRecordScan(_ bytes: [UInt8]) {
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    for sep in [UInt8(ascii: ","), UInt8(ascii: "\t")] {
        var q = QuoteScanner(separator: sep)
        bytes[..<cut].withUnsafeBytes { _ = q.scanBytes($0) }
        var slow = q, fast = q
        let want = bytes[cut...].withUnsafeBytes { slow.scanBytes($0) }
        if let got = bytes[cut...].withUnsafeBytes({ fast.scanWords($0) }) {
            precondition(got == want && fast.state == slow.state && fast.records == slow.records,
                         "scanWords differs from scanBytes")
        } else {
            precondition(fast.state == q.state && fast.records == q.records, "a declined scanWords changed the scanner")
        }
    }
}

