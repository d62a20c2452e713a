// The record cache (`RecordCache`): a table archived again with the scans of its known chunks
// read back must count exactly what one sequential scan of the new text counts, whatever
// changed (rows appended, rows inserted in the middle, a quoted field with line breaks
// widened so later chunks start inside quotes), and a damaged cache file is an empty cache.
import Foundation
import MLVSystem
import Testing
@testable import MLVStore

@Suite struct RecordCacheTests {
    let gen = RecordScanTests()
    let small = Chunker(ChunkerParameters(minSize: 64, avgSize: 256, maxSize: 1024))

    func archive(_ bytes: [UInt8], cache: RecordCache?) throws -> (records: UInt64?, breaks: UInt64?) {
        let dir = tempDir("recordcache")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        writeFile(dir + "/t.csv", bytes)
        let a = Archiver(writer: nil, chunker: small)
        a.recordCache = cache
        let f = try a.archiveFile(at: dir + "/t.csv", countLines: true, tableSeparator: UInt8(ascii: ","))
        return (f.records, f.lineBreaks)
    }

    /// Versions of one table, each a small edit of the one before.
    func versions(seed: UInt64) -> [[UInt8]] {
        let v1 = gen.csv(rows: 4000, seed: seed, bom: false)
        let extra = Array(gen.csv(rows: 40, seed: seed + 100, bom: false).drop { $0 != 0x0A }.dropFirst())
        let v2 = v1 + extra                                              // appended
        let mid = v2.count / 2
        let cut = v2[mid...].firstIndex(of: 0x0A)! + 1
        let v3 = Array(v2[..<cut]) + extra + Array(v2[cut...])           // inserted in the middle
        // A quoted field with line breaks put in early: every later chunk's state may change.
        let early = v3[200...].firstIndex(of: 0x0A)! + 1
        let v4 = Array(v3[..<early]) + Array("7,\"a\nlong\n\"\"field\"\"\n\",x\n".utf8) + Array(v3[early...])
        return [v1, v2, v3, v4, v1]
    }

    @Test(arguments: [1, 2, 3]) func countsStayExactAcrossVersions(seed: Int) throws {
        let cache = RecordCache()
        for (k, v) in versions(seed: UInt64(seed)).enumerated() {
            let want = try #require(gen.reference(v))
            let got = try archive(v, cache: cache)
            #expect(got.records == want.records, "seed \(seed) version \(k + 1)")
            #expect(got.breaks == want.breaks, "seed \(seed) version \(k + 1)")
        }
        #expect(cache.count > 0)
    }

    /// The cache is what answers for a known chunk: a cache file whose record counts were
    /// raised by one (its checksum made again) changes the count, which is why the key is
    /// the chunk's SHA-256 and the file carries a checksum.
    @Test func aKnownChunkIsReadFromTheCache() throws {
        let dir = tempDir("recordcache-known")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let v = versions(seed: 4)[0]
        let cache = RecordCache()
        let first = try archive(v, cache: cache)
        try cache.save(path: dir + "/rc")
        var bytes = Array(try FS.readAll(dir + "/rc").dropLast(32))
        let n = (bytes.count - 16) / 44
        #expect(n == cache.count && n > 0)
        for k in 0..<n { bytes[16 + k * 44 + 40] &+= 1 }                // each entry's records, low byte
        bytes += ObjectID.hash(bytes).bytes
        try FS.atomicWrite(bytes, to: dir + "/rc", durable: false)
        let second = try archive(v, cache: RecordCache.load(path: dir + "/rc"))
        #expect(second.records != first.records)
    }

    @Test func savedAndLoadedAgainDamagedIsEmpty() throws {
        let dir = tempDir("recordcache-file")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = RecordCache()
        let v = versions(seed: 5)[0]
        let want = try archive(v, cache: cache)
        try cache.save(path: dir + "/rc")
        let loaded = RecordCache.load(path: dir + "/rc")
        #expect(loaded.count == cache.count && loaded.count > 0)
        let again = try archive(v, cache: loaded)
        #expect(again.records == want.records && again.breaks == want.breaks)
        var bytes = try FS.readAll(dir + "/rc")
        bytes[20] ^= 1
        try FS.atomicWrite(bytes, to: dir + "/rc", durable: false)
        #expect(RecordCache.load(path: dir + "/rc").count == 0)
        try FS.atomicWrite(Array(bytes.prefix(30)), to: dir + "/rc", durable: false)
        #expect(RecordCache.load(path: dir + "/rc").count == 0)
        #expect(RecordCache.load(path: dir + "/missing").count == 0)
    }

    /// Only a regular file of a size a cache can have is read: not a link (to a valid cache,
    /// even), not gigabytes of anything.
    @Test func aLinkOrAnOversizedFileIsEmpty() throws {
        let dir = tempDir("recordcache-odd")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = RecordCache()
        _ = try archive(versions(seed: 6)[0], cache: cache)
        try cache.save(path: dir + "/rc")
        #expect(RecordCache.load(path: dir + "/rc").count == cache.count)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: dir + "/rc")
        #expect(RecordCache.load(path: dir + "/link").count == 0)
        let big = try FileHandleFD.create(dir + "/big")
        #expect(ftruncate(big.fd, 1 << 30) == 0)
        #expect(RecordCache.load(path: dir + "/big").count == 0)
    }
}
