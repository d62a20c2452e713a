import MLVSystem
import Foundation
import MLVTestSupport
import MLVZstd
import Testing
@testable import MLVStore

/// `verifyPack` streams objects through fixed buffers: it must accept every object a writer
/// makes, of any size and at any level, and refuse frames that decode to more or less.
@Suite struct VerifyPackTests {
    func packOf(_ objects: [[UInt8]], level: Int32) throws -> (String, [ObjectID]) {
        let dir = tempDir("verify")
        let store = try Store(root: dir)
        let w = try store.writer(compressionLevel: level)
        let ids = try objects.map { try w.addObject($0, type: .file) }
        try w.commit()
        let packs = try FileManager.default.subpathsOfDirectory(atPath: dir + "/packs").filter { $0.hasSuffix(".pack") }
        #expect(packs.count == 1)
        return (dir + "/packs/" + packs[0], ids)
    }

    @Test func largeAndSmallObjectsAtLowAndHighLevelsVerify() throws {
        let objects: [[UInt8]] = [
            [UInt8](repeating: 0, count: 40 << 20),                    // many output buffers of zeros
            noise(3 << 20, seed: 1),                                     // stored raw
            Array((0..<(5 << 20)).map { UInt8(truncatingIfNeeded: $0 / 7) }),
            [], [1], Array("small".utf8),
        ]
        for level: Int32 in [1, 19] {
            let (path, ids) = try packOf(objects, level: level)
            let entries = try verifyPack(FileHandleFD.openRead(path), bases: nil)
            #expect(entries.map(\.id) == ids)
        }
    }

    @Test func aFrameDecodingToMoreOrLessThanRecordedIsRefused() throws {
        let (path, _) = try packOf([[UInt8](repeating: 7, count: 1 << 20)], level: 3)
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        // The entry's raw length (bytes 16+36..<16+40) one less, then one more.
        for delta: Int in [-1, 1] {
            var b = bytes
            let at = 16 + 36
            let raw = UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
            let v = UInt32(Int(raw) + delta)
            for k in 0..<4 { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
            writeFile(path, b)
            #expect(throws: StoreError.self) { try verifyPack(FileHandleFD.openRead(path), bases: nil) }
        }
        // Cut inside the frame (and the entry's stored length with it).
        let at = 16 + 40
        let stored = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        let cut = stored / 2
        for k in 0..<4 { bytes[at + k] = UInt8(truncatingIfNeeded: cut >> (8 * UInt32(k))) }
        writeFile(path, Array(bytes.prefix(16 + 44 + Int(cut))))
        #expect(throws: StoreError.self) { try verifyPack(FileHandleFD.openRead(path), bases: nil) }
    }
}
