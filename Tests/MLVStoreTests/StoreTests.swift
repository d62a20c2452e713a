import MLVSystem
import Foundation
import Glibc
import MLVTestSupport
import MLVZstd
import Testing
@testable import MLVStore

/// A fresh directory per test (Swift Testing runs tests in parallel).
func tempDir(_ name: String = "store") -> String {
    scratchDirectory(name)
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

@Suite struct StoreTests {
    @Test func packAndIndexRoundTrip() throws {
        let dir = tempDir()
        let store = try Store(root: dir)
        let w = try store.writer(compressionLevel: 3)
        let texts = (0..<50).map { Array("object \($0) ".utf8) + [UInt8](repeating: UInt8($0), count: 1000 * $0) }
        var ids: [ObjectID] = []
        for t in texts { ids.append(try w.addObject(t, type: .chunk)) }
        // Not visible before the index is written.
        #expect(try !Store(root: dir).contains(ids[0]))
        try w.commit()
        let reopened = try Store(root: dir)
        for (id, t) in zip(ids, texts) {
            #expect(try reopened.readObject(id, type: .chunk) == t)
        }
        let packs = try FileManager.default.subpathsOfDirectory(atPath: dir + "/packs").filter { $0.hasSuffix(".pack") }
        #expect(packs.count == 1)
        // A pack is named by the hash of its headers and its entries scan back.
        let packPath = dir + "/packs/" + packs[0]
        #expect(try computePackID(FileHandleFD.openRead(packPath)).hex + ".pack" == FS.basename(packPath))
        #expect(try scanPack(FileHandleFD.openRead(packPath)).count == texts.count)
    }

    @Test func compressibleDataIsCompressedAndRandomDataIsStoredRaw() throws {
        let store = try Store(root: tempDir())
        let w = try store.writer(compressionLevel: 1)
        let text = try w.addObject([UInt8](repeating: 65, count: 100_000), type: .chunk)
        let noise = try w.addObject(randomBytes(100_000, seed: 5), type: .chunk)
        try w.commit()
        #expect(try store.location(of: text)?.encoding == .zstd)
        #expect(try store.location(of: noise)?.encoding == .raw)
        #expect(w.newStoredBytes < 110_000)
    }

    @Test func aFlippedByteInAPackIsDetected() throws {
        let dir = tempDir()
        let store = try Store(root: dir)
        let w = try store.writer(compressionLevel: 1)
        let data = randomBytes(50_000, seed: 11)
        let id = try w.addObject(data, type: .chunk)
        try w.commit()
        let pack = try FileManager.default.subpathsOfDirectory(atPath: dir + "/packs").first { $0.hasSuffix(".pack") }!
        var bytes = try FS.readAll(dir + "/packs/" + pack)
        bytes[bytes.count - 100] ^= 0x01
        writeFile(dir + "/packs/" + pack, bytes)
        #expect(throws: StoreError.self) { try Store(root: dir).readObject(id, type: .chunk) }
    }

    @Test func aMissingPackIsReportedAsSuch() throws {
        let dir = tempDir()
        let store = try Store(root: dir)
        let w = try store.writer(compressionLevel: 1)
        let id = try w.addObject(Array("x".utf8), type: .chunk)
        try w.commit()
        let pack = try FileManager.default.subpathsOfDirectory(atPath: dir + "/packs").first { $0.hasSuffix(".pack") }!
        try FileManager.default.removeItem(atPath: dir + "/packs/" + pack)
        do {
            _ = try Store(root: dir).readObject(id, type: .chunk)
            Issue.record("read of a missing pack succeeded")
        } catch let e as StoreError {
            guard case .missingPack = e else { Issue.record("wrong error \(e)"); return }
        }
    }

    @Test func indexDecoderRejectsDamage() throws {
        let store = try Store(root: tempDir())
        let w = try store.writer(compressionLevel: 1)
        _ = try w.addObject(Array("a".utf8), type: .chunk)
        _ = try w.addObject(Array("b".utf8), type: .chunk)
        try w.commit()
        let name = try FS.list(store.indexDir).first!
        let good = try FS.readAll(store.indexDir + "/" + name)
        #expect(try decodeIndex(good, path: name).entries.count == 2)
        // Every truncation is an error, never a trap.
        for n in 0..<good.count {
            #expect(throws: StoreError.self) { try decodeIndex(Array(good[0..<n]), path: name) }
        }
        var newer = good
        newer[8] = UInt8(PackFormat.version + 1)
        #expect(throws: StoreError.unsupportedVersion(path: name, found: PackFormat.version + 1)) { try decodeIndex(newer, path: name) }
        var badType = good
        badType[20 + 32 + 32 + 4 + 8 + 4 + 4] = 9
        #expect(throws: StoreError.self) { try decodeIndex(badType, path: name) }
    }

    @Test func anIndexWhoseContentDoesNotMatchItsNameIsRefused() throws {
        let dir = tempDir()
        let store = try Store(root: dir)
        let w = try store.writer(compressionLevel: 1)
        _ = try w.addObject(Array("a".utf8), type: .chunk)
        try w.commit()
        let name = try FS.list(store.indexDir).first!
        var bytes = try FS.readAll(store.indexDir + "/" + name)
        bytes[bytes.count - 1] ^= 0x80
        writeFile(store.indexDir + "/" + name, bytes)
        #expect(throws: StoreError.self) { try Store(root: dir).loadIndex() }
    }

    @Test func aNewerStoreVersionIsRefused() throws {
        let dir = tempDir()
        _ = try Store(root: dir)
        writeFile(dir + "/VERSION", Array("mlv-store 7\n".utf8))
        #expect(throws: StoreError.unsupportedVersion(path: dir + "/VERSION", found: 7)) { try Store(root: dir) }
    }

    @Test func aZstdFrameDeclaringAnEnormousSizeIsRejected() throws {
        let c = ZstdCompressor(level: 1)
        let src = [UInt8](repeating: 7, count: 1000)
        var frame = [UInt8](repeating: 0, count: zstdCompressBound(src.count))
        let n = try src.withUnsafeBytes { s in try frame.withUnsafeMutableBytes { try c.compress(s, into: $0) } }
        frame.removeLast(frame.count - n)
        let d = ZstdDecompressor()
        var out = [UInt8](repeating: 0, count: 999)   // the index says 999 bytes; the frame says 1000
        #expect(throws: ZstdError.sizeMismatch(expected: 999, actual: 1000)) {
            try frame.withUnsafeBytes { f in try out.withUnsafeMutableBytes { try d.decompress(f, into: $0) } }
        }
        var garbage = [UInt8](repeating: 0xFF, count: 64)
        #expect(throws: ZstdError.self) {
            try garbage.withUnsafeBytes { f in try out.withUnsafeMutableBytes { try d.decompress(f, into: $0) } }
        }
        garbage[0] = 0
    }
}

@Suite struct ObjectTests {
    @Test func manifestRoundTripAndValidation() throws {
        let m = FileManifest(size: 30, chunks: [ManifestChunk(id: ObjectID.hash([1]), length: 10),
                                                ManifestChunk(id: ObjectID.hash([2]), length: 20)])
        let bytes = m.encoded()
        #expect(try FileManifest(decoding: bytes, id: ObjectID.hash(bytes)) == m)
        var wrongSize = bytes
        wrongSize[16] = 31
        #expect(throws: ObjectError.self) { try FileManifest(decoding: wrongSize, id: ObjectID.hash(bytes)) }
        for n in 0..<bytes.count {
            #expect(throws: ObjectError.self) { try FileManifest(decoding: Array(bytes[0..<n]), id: ObjectID.hash(bytes)) }
        }
    }

    @Test func treesAreCanonicalAndRejectUnsafeNames() throws {
        let id = ObjectID.hash([0])
        let a = Tree(entries: [TreeEntry(name: "b", kind: .file, size: 1, files: 1, id: id),
                               TreeEntry(name: "a", kind: .directory, size: 2, files: 3, id: id)])
        let b = Tree(entries: a.entries.reversed())
        #expect(a.encoded() == b.encoded())
        #expect(try Tree(decoding: a.encoded(), id: id) == a)
        for bad in ["..", ".", "a/b", "", "x\ny", "nul\u{0}", ".git", ".GIT"] {
            var t = a
            t.entries[0].name = bad
            #expect(throws: ObjectError.self, "name \(bad.debugDescription)") { try Tree(decoding: t.encoded(), id: id) }
        }
        // Duplicates are refused.
        let dup = Tree(entries: [TreeEntry(name: "a", kind: .file, size: 1, files: 1, id: id),
                                 TreeEntry(name: "a", kind: .file, size: 1, files: 1, id: id)])
        #expect(throws: ObjectError.self) { try Tree(decoding: dup.encoded(), id: id) }
    }
}

@Suite struct ArchiverTests {
    @Test func aFileSpanningManyBlocksRoundTripsAndDedupes() throws {
        let dir = tempDir()
        let store = try Store(root: dir + "/store")
        let data = randomBytes(20 << 20, seed: 42)   // spans three 8 MiB blocks
        writeFile(dir + "/big", data)
        let w = try store.writer(compressionLevel: 1)
        let a = Archiver(writer: w, level: 1)
        let archived = try a.archiveFile(at: dir + "/big", countLines: true)
        let (id, size) = (archived.id, archived.size)
        // Line breaks are counted across block and chunk edges.
        #expect(archived.lineBreaks == UInt64(data.filter { $0 == 0x0A }.count))
        try w.commit()
        #expect(size == UInt64(data.count))
        let m = try store.manifest(id)
        #expect(m.chunks.count > 100)
        var rebuilt: [UInt8] = []
        for c in m.chunks { rebuilt += try store.readObject(c.id, type: .chunk) }
        #expect(rebuilt == data)
        // The same chunks as the in-memory chunker: streaming does not change boundaries.
        #expect(m.chunks.map(\.length) == data.withUnsafeBytes { Chunker().chunkLengths(of: $0) }.map { UInt32($0) })
        // Appending 1% stores only the tail.
        writeFile(dir + "/big", data + randomBytes(200_000, seed: 43))
        let w2 = try store.writer(compressionLevel: 1)
        _ = try Archiver(writer: w2, level: 1).archiveFile(at: dir + "/big")
        try w2.commit()
        #expect(w2.newRawBytes < 600_000, "stored \(w2.newRawBytes) new bytes")
    }

    @Test func hashOnlyModeGivesTheSameIdsAndStoresNothing() throws {
        let dir = tempDir()
        let store = try Store(root: dir + "/store")
        writeFile(dir + "/f", randomBytes(3 << 20, seed: 2))
        let dry = try Archiver(writer: nil).archiveFile(at: dir + "/f").id
        #expect(try FS.list(store.packsDir).isEmpty)
        let w = try store.writer(compressionLevel: 1)
        let real = try Archiver(writer: w, level: 1).archiveFile(at: dir + "/f").id
        #expect(dry == real)
    }

    @Test func emptyFilesHaveAnEmptyManifest() throws {
        let dir = tempDir()
        let store = try Store(root: dir + "/store")
        writeFile(dir + "/empty", [])
        let w = try store.writer(compressionLevel: 1)
        let e = try Archiver(writer: w, level: 1).archiveFile(at: dir + "/empty")
        let (id, size) = (e.id, e.size)
        try w.commit()
        #expect(size == 0)
        #expect(try store.manifest(id).chunks.isEmpty)
    }
}
