import MLVSystem
import MLVTestSupport
import Testing
@testable import MLVStore

func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] { noise(count, seed: seed) }

func chunks(_ data: [UInt8]) -> [[UInt8]] {
    let lengths = data.withUnsafeBytes { Chunker().chunkLengths(of: $0) }
    var out: [[UInt8]] = []
    var off = 0
    for l in lengths {
        out.append(Array(data[off..<off + l]))
        off += l
    }
    return out
}

@Suite struct ChunkerTests {
    @Test func sizesStayWithinBoundsAndCoverTheInput() {
        let data = randomBytes(8 << 20, seed: 1)
        let lengths = data.withUnsafeBytes { Chunker().chunkLengths(of: $0) }
        #expect(lengths.reduce(0, +) == data.count)
        let p = ChunkerParameters.standard
        for l in lengths.dropLast() {
            #expect(l >= p.minSize && l <= p.maxSize)
        }
        // Normalized chunking keeps the mean near the target average.
        let mean = data.count / lengths.count
        #expect(mean > p.avgSize / 2 && mean < p.avgSize * 2, "mean chunk \(mean)")
    }

    @Test func boundariesAreStableUnderAnInsertionNearTheStart() {
        let original = randomBytes(16 << 20, seed: 7)
        var edited = original
        edited.insert(contentsOf: randomBytes(100, seed: 99), at: 5000)
        let a = Set(chunks(original).map { ObjectID.hash($0) })
        let b = chunks(edited).map { ObjectID.hash($0) }
        let changed = b.filter { !a.contains($0) }.count
        #expect(b.count > 200)
        #expect(changed <= 2, "\(changed) of \(b.count) chunks changed")
    }

    @Test func boundariesAreStableUnderADeletionInTheMiddle() {
        let original = randomBytes(16 << 20, seed: 8)
        var edited = original
        edited.removeSubrange((8 << 20)..<((8 << 20) + 3000))
        let a = Set(chunks(original).map { ObjectID.hash($0) })
        let changed = chunks(edited).map { ObjectID.hash($0) }.filter { !a.contains($0) }.count
        #expect(changed <= 2)
    }

    @Test func streamingCutsMatchWholeBufferCuts() {
        // cut() on a prefix that is too short to decide must say so, never guess.
        let data = randomBytes(1 << 20, seed: 3)
        let c = Chunker()
        data.withUnsafeBytes { buf in
            let whole = c.cut(buf, atEOF: true)!
            for n in stride(from: 1, to: whole, by: 4099) {
                #expect(c.cut(UnsafeRawBufferPointer(rebasing: buf[0..<n]), atEOF: false) == nil)
            }
            #expect(c.cut(UnsafeRawBufferPointer(rebasing: buf[0..<(whole + 10)]), atEOF: false) == whole)
        }
    }

    @Test func smallAndEmptyInputs() {
        let c = Chunker()
        [UInt8]().withUnsafeBytes { #expect(c.cut($0, atEOF: true) == 0) }
        [UInt8](repeating: 1, count: 10).withUnsafeBytes {
            #expect(c.cut($0, atEOF: true) == 10)
            #expect(c.cut($0, atEOF: false) == nil)
        }
        // A run of identical bytes never matches the mask: cut at the maximum.
        let zeros = [UInt8](repeating: 0, count: 600_000)
        #expect(zeros.withUnsafeBytes { c.chunkLengths(of: $0) } == [262_144, 262_144, 75_712])
    }

    @Test func sha256MatchesTheStandardVector() {
        #expect(ObjectID.hash(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let s = SHA256Stream()
        s.update(Array("a".utf8))
        s.update(Array("bc".utf8))
        #expect(s.finish() == ObjectID.hash(Array("abc".utf8)))
        #expect(ObjectID(hex: "zz") == nil)
        #expect(ObjectID(hex: String(repeating: "g", count: 64)) == nil)
    }

    /// The cut points are part of the store format: the unrolled scan must cut exactly where
    /// the textbook gear hash does (one byte at a time, FastCDC's two masks), on random data
    /// and on text, for several sizes, so that every position of the unrolled loop and its
    /// tails is where a cut falls somewhere.
    @Test func cutsAreThoseOfTheOneByteGearHash() {
        func reference(_ data: [UInt8], _ p: ChunkerParameters) -> [Int] {
            let bits = p.avgSize.trailingZeroBitCount
            let hard = ~UInt64(0) << UInt64(64 - (bits + 2)), easy = ~UInt64(0) << UInt64(64 - (bits - 2))
            var out: [Int] = [], start = 0
            while start < data.count {
                let n = data.count - start
                var len = n
                if n > p.minSize {
                    len = min(n, p.maxSize)
                    var h: UInt64 = 0
                    for i in p.minSize..<min(n, p.maxSize) {
                        h = (h &<< 1) &+ gearTable[Int(data[start + i])]
                        if h & (i < p.avgSize ? hard : easy) == 0 { len = i + 1; break }
                    }
                }
                out.append(len)
                start += len
            }
            return out
        }
        let text = Array((0..<120_000).map { "\($0),row \($0 % 97),\($0 * 7919 % 1000)\n" }.joined().utf8)
        for (k, data) in [randomBytes(3_000_000, seed: 11), text].enumerated() {
            for p in [ChunkerParameters.standard, ChunkerParameters(minSize: 16, avgSize: 64, maxSize: 256),
                      ChunkerParameters(minSize: 13, avgSize: 32, maxSize: 77)] {
                let got = data.withUnsafeBytes { Chunker(p).chunkLengths(of: $0) }
                #expect(got == reference(data, p), "input \(k), \(p)")
                #expect(got.count > 10)
            }
        }
    }
}

/// The archiver reads a file block by block, each next block read and cut by a worker beside
/// the hashing of the one before: its chunks must be those of the whole file cut at once, and
/// its ids their hashes, for sizes around the block edges.
@Suite struct ArchiverBlockTests {
    @Test(arguments: [0, 1, Archiver.blockSize - 1, Archiver.blockSize, Archiver.blockSize + 1,
                      2 * Archiver.blockSize + 12_345])
    func chunksAreThoseOfTheWholeFile(size: Int) throws {
        let data = randomBytes(size, seed: UInt64(size) &+ 7)
        let dir = tempDir("archiver-blocks")
        defer { try? FS.removeTree(dir) }
        writeFile(dir + "/f", data)
        let small = Chunker(ChunkerParameters(minSize: 1024, avgSize: 4096, maxSize: 16384))
        let got = try Archiver(writer: nil, chunker: small).chunkList(at: dir + "/f")
        let lengths = data.withUnsafeBytes { small.chunkLengths(of: $0) }
        #expect(got.map { Int($0.length) } == lengths)
        var off = 0
        for (c, n) in zip(got, lengths) {
            #expect(c.id == data[off..<(off + n)].withUnsafeBytes { ObjectID.hash($0) })
            off += n
        }
        #expect(off == size)
    }
}
