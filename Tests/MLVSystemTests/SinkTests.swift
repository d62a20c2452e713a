import Foundation
import Glibc
import Testing
@testable import MLVSystem

/// The staging writer behind checkout, in both modes: whatever the mix of staged batches and
/// copied ranges, and whatever the alignment, the file must come out byte for byte.
@Suite struct SinkTests {
    func bytes(_ n: Int, _ seed: UInt8) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed)) } }

    @Test(arguments: [true, false])
    func mixedBatchesAndCopiesComeOutExactly(direct: Bool) throws {
        let dir = FileManager.default.currentDirectoryPath + "/.build/sink-test-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = bytes(5_000_003, 7)
        try Data(source).write(to: URL(fileURLWithPath: dir + "/src"))
        let src = try FileHandleFD.openRead(dir + "/src")
        if direct {
            // Drop the source from the page cache, so the O_DIRECT read path (misaligned
            // offsets through the bounce buffer) is the one exercised.
            try src.sync()
            _ = posix_fadvise(src.fd, 0, 0, POSIX_FADV_DONTNEED)
        }
        let out = try FileHandleFD.create(dir + "/out")
        let sink = try Sink(out, direct: direct)
        // The package lives on a disk file system here (ext4): O_DIRECT must really be in use,
        // or this test would not exercise the aligned path at all.
        #expect(sink.direct == direct)
        var expected: [UInt8] = []
        // Odd sizes on purpose: nothing lines up with 4 KiB.
        for (i, n) in [1, 4095, 4097, 16 * 1024 * 1024, 123_457, 3].enumerated() {
            let data = bytes(n, UInt8(i))
            let slot = try sink.reserve(n)
            slot.copyBytes(from: data)
            try sink.commit(n)
            expected += data
            let (off, len) = (UInt64(i * 1000 + 1), UInt64(700_001 + i))
            var seen: UInt64 = 0
            try sink.copy(from: src, at: off, count: len) { seen += $0 }
            #expect(seen == len)
            expected += source[Int(off)..<Int(off + len)]
        }
        try sink.finish()
        #expect(try FS.readAll(dir + "/out") == expected)
        // A copy past the end of the source is an error, not a short file.
        let sink2 = try Sink(try FileHandleFD.create(dir + "/out2"), direct: direct)
        #expect(throws: IOError.self) { try sink2.copy(from: src, at: 4_999_000, count: 10_000) { _ in } }
    }
}
