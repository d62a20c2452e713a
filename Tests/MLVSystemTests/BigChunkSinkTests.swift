import Foundation
import Glibc
import Testing
@testable import MLVSystem

/// The format allows objects up to 256 MiB, far above checkout's 16 MiB staging batch: the
/// sink must take a chunk of any allowed size, in both modes, and keep its bytes in order.
@Suite struct BigChunkSinkTests {
    func bytes(_ n: Int, _ seed: UInt8) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ Int(seed)) } }

    @Test(arguments: [true, false])
    func reservationsAboveTheBatchSizeWork(direct: Bool) throws {
        let dir = FileManager.default.currentDirectoryPath + "/.build/sink-big-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = try FileHandleFD.create(dir + "/out")
        let sink = try Sink(out, direct: direct)
        #expect(sink.direct == direct)
        var expected: [UInt8] = []
        // Small, then bigger than a whole buffer (unaligned), small again, then bigger still.
        for (i, n) in [4097, (16 << 20) + 1, 3, (40 << 20) + 12_345, 100].enumerated() {
            let data = bytes(n, UInt8(i))
            let slot = try sink.reserve(n)
            #expect(slot.count == n)
            slot.copyBytes(from: data)
            try sink.commit(n)
            expected += data
        }
        try sink.finish()
        #expect(try FS.readAll(dir + "/out") == expected)
    }
}
