// Record counts from the archiver, whose quoted chunks are scanned in parallel from a guessed
// start (`QuoteScanner.guess`) and rescanned where the guess was wrong, must equal one
// sequential scan of the whole text: random CSVs whose quoted fields hold commas, line
// breaks (LF and CRLF), doubled quotes, with blank lines, stray quotes and a BOM, cut into
// tiny chunks so that many chunks start inside quotes, and across 8 MiB blocks.
import Foundation
import MLVSystem
import Testing
@testable import MLVStore

@Suite struct RecordScanTests {
    func csv(rows: Int, seed: UInt64, bom: Bool) -> [UInt8] {
        var r = Mix(seed)
        func pick(_ n: Int) -> Int { Int(r.next() % UInt64(n)) }
        var out: [UInt8] = bom ? [0xEF, 0xBB, 0xBF] : []
        out += Array("id,name,note\n".utf8)
        for i in 0..<rows {
            if pick(50) == 0 { out += pick(2) == 0 ? [0x0A] : [0x0D, 0x0A] }   // a blank line
            var fields = ["\(i)"]
            for _ in 0..<2 {
                switch pick(6) {
                case 0: fields.append("\"a, b\"")
                case 1: fields.append("\"line\nbreak\"")
                case 2: fields.append("\"crlf\r\nbreak \"\"quoted\"\" \"")
                case 3: fields.append("x\"y")                              // a stray quote: data
                case 4: fields.append("\"\"")
                default: fields.append(String(repeating: "v", count: pick(30)))
                }
            }
            out += Array(fields.joined(separator: ",").utf8)
            out += pick(4) == 0 ? [0x0D, 0x0A] : [0x0A]
        }
        return out
    }

    func reference(_ bytes: [UInt8]) -> (records: UInt64, breaks: UInt64)? {
        var q = QuoteScanner(separator: UInt8(ascii: ","))
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        let n = body.withUnsafeBytes { q.scanBytes($0) }   // the definition
        if q.endsInsideQuotes { return nil }
        q.finish()
        return (q.records, n)
    }

    func archived(_ bytes: [UInt8], chunker: Chunker) throws -> (records: UInt64?, breaks: UInt64?) {
        let dir = tempDir("recordscan")
        writeFile(dir + "/t.csv", bytes)
        let a = try Archiver(writer: nil, chunker: chunker).archiveFile(at: dir + "/t.csv", countLines: true, tableSeparator: UInt8(ascii: ","))
        try? FileManager.default.removeItem(atPath: dir)
        return (a.records, a.lineBreaks)
    }

    @Test(arguments: [1, 2, 3, 4]) func countsMatchOneSequentialScan(seed: Int) throws {
        let tiny = Chunker(ChunkerParameters(minSize: 16, avgSize: 64, maxSize: 256))
        for bom in [false, true] {
            let bytes = csv(rows: 3000, seed: UInt64(seed), bom: bom)
            let want = try #require(reference(bytes))
            let got = try archived(bytes, chunker: tiny)
            #expect(got.records == want.records, "seed \(seed) bom \(bom)")
            #expect(got.breaks == want.breaks, "seed \(seed) bom \(bom)")
        }
    }

    /// Over 8 MiB: the guess for a block's first chunk comes from the previous block's end.
    @Test func countsMatchAcrossBlocks() throws {
        let bytes = csv(rows: 600_000, seed: 9, bom: false)
        #expect(bytes.count > 2 * Archiver.blockSize)
        let want = try #require(reference(bytes))
        let small = Chunker(ChunkerParameters(minSize: 256, avgSize: 1024, maxSize: 4096))
        let got = try archived(bytes, chunker: small)
        #expect(got.records == want.records)
        #expect(got.breaks == want.breaks)
    }

    /// A file ending inside quotes has no count, guesses or not.
    @Test func aFileEndingInsideQuotesHasNoCount() throws {
        let bytes = csv(rows: 2000, seed: 5, bom: false) + Array("9,\"open, never closed\n".utf8)
        #expect(reference(bytes) == nil)
        let got = try archived(bytes, chunker: Chunker(ChunkerParameters(minSize: 16, avgSize: 64, maxSize: 256)))
        #expect(got.records == nil && got.breaks == nil)
    }
}

/// The 64-byte path must leave exactly the byte scan's state, records and count, or decline:
/// random texts of the bytes that matter (quotes, LF, CR, separators) and a little else, cut
/// at random points so that every entry state the byte scan reaches is met, chunk lengths
/// across the 64-byte block edges.
@Suite struct ScanWordsTests {
    @Test(arguments: [1, 2, 3]) func agreesWithTheByteScanOrDeclines(seed: Int) {
        var r = Mix(UInt64(seed))
        let alphabet: [UInt8] = [0x22, 0x22, 0x0A, 0x0D, 0x2C, 0x2C, 0x61, 0x62, 0x20]
        var answered = 0, declined = 0
        for round in 0..<4000 {
            let n = Int(r.next() % 300)
            // Half the texts well formed (quotes only at field starts, closed), so the fast
            // path answers often; half anything.
            var bytes: [UInt8] = []
            if round % 2 == 0 {
                while bytes.count < n {
                    switch r.next() % 5 {
                    case 0: bytes += Array("\"a,\n\"\"b\r\n\"".utf8)
                    case 1: bytes += [0x0A]
                    case 2: bytes += [0x0D, 0x0A]
                    default: bytes += Array("xy,".utf8)
                    }
                    bytes.append(r.next() % 2 == 0 ? 0x2C : 0x0A)
                }
            } else {
                bytes = (0..<n).map { _ in alphabet[Int(r.next() % UInt64(alphabet.count))] }
            }
            let cut = bytes.isEmpty ? 0 : Int(r.next() % UInt64(bytes.count + 1))
            var q = QuoteScanner(separator: 0x2C)
            bytes[0..<cut].withUnsafeBytes { _ = q.scanBytes($0) }
            var slow = q, fast = q
            let want = bytes[cut...].withUnsafeBytes { slow.scanBytes($0) }
            if let got = bytes[cut...].withUnsafeBytes({ fast.scanWords($0) }) {
                answered += 1
                #expect(got == want, "round \(round)")
                #expect(fast.state == slow.state, "round \(round)")
                #expect(fast.records == slow.records, "round \(round)")
            } else {
                declined += 1
                #expect(fast.state == q.state && fast.records == q.records, "a decline changes nothing")
            }
        }
        // Both paths are exercised, the fast one most.
        #expect(answered > 2000 && declined > 100, "answered \(answered), declined \(declined)")
    }

    /// A quote inside an unquoted field is data, not a toggle: the fast path declines.
    @Test func aStrayQuoteIsLeftToTheByteScan() {
        var q = QuoteScanner(separator: 0x2C)
        let text = Array("a,b\"c\nd,e\n".utf8)
        #expect(text.withUnsafeBytes { q.scanWords($0) } == nil)
        #expect(text.withUnsafeBytes { q.scan($0) } == 2)
    }
}
