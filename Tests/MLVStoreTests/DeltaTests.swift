// Store format 2: delta chunks (Delta.swift, DeltaEncoder.swift, ChunkReader.swift). The
// header's checks, the byte transforms, the float detector, the choice of base chunks, a
// store-level round trip of real histories, and bad input: missing, corrupt and cyclic
// bases, and a version-1 store read and then written by today's code (the mixed state).
import Foundation
import MLVSystem
import MLVTestSupport
import MLVZstd
import Testing
@testable import MLVStore

// MARK: - Test data

/// SplitMix64: deterministic numbers for generated data.
struct Mix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in (0, 1].
    mutating func unit() -> Double { Double(next() >> 11 | 1) / Double(1 << 53) }
    /// Normal, mean 0 (Box-Muller).
    mutating func gaussian(_ sd: Double) -> Double {
        sd * (-2 * log(unit())).squareRoot() * cos(2 * Double.pi * unit())
    }
}

/// A key-sorted daily series (`keys` keys, `base + version` rows each): every version
/// inserts one row per key, so rows are inserted throughout the file. A row's values
/// depend on its key and day only, as a real series' past does.
func timeSeriesCSV(version: Int, keys: Int = 200, base: Int = 100) -> [UInt8] {
    var s = "key,day,open,close,volume\n"
    s.reserveCapacity(keys * (base + version) * 40)
    for k in 0..<keys {
        for d in 0..<(base + version) {
            var m = Mix(UInt64(k) << 20 | UInt64(d))
            let open = m.next() % 50_000, close = m.next() % 50_000, volume = m.next() % 10_000_000
            s += "K\(k),\(d),\(open / 100).\(open % 100),\(close / 100).\(close % 100),\(volume)\n"
        }
    }
    return Array(s.utf8)
}

/// Little-endian bytes of `values`.
func floatBytes(_ values: [Float]) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(values.count * 4)
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
    return out
}

func weights(_ count: Int, sd: Double, seed: UInt64) -> [Float] {
    var m = Mix(seed)
    return (0..<count).map { _ in Float(m.gaussian(sd)) }
}

// MARK: - Store helpers

/// One version of a file archived into `store` (one write session, so one pack and one
/// index), against `previous` when given.
@discardableResult
func archive(_ store: Store, _ bytes: [UInt8], previous: ObjectID? = nil, chunker: Chunker = Chunker()) throws
    -> (id: ObjectID, chunks: [ManifestChunk], stored: UInt64, index: String?) {
    let dir = tempDir("delta-src")
    let path = dir + "/file"
    writeFile(path, bytes)
    let w = try store.writer(compressionLevel: 1)
    let a = Archiver(writer: w, level: 1, chunker: chunker)
    let f = try a.archiveFile(at: path, previous: previous)
    try w.commit()
    try? FileManager.default.removeItem(atPath: dir)
    return (f.id, a.lastChunks, w.newStoredBytes, w.lastIndex)
}

/// A stored file's bytes, read chunk by chunk through one reader (as checkout reads).
func readBack(_ store: Store, _ manifest: ObjectID) throws -> [UInt8] {
    let m = try store.manifest(manifest)
    let reader = ChunkReader(store: store)
    var out = [UInt8]()
    out.reserveCapacity(Int(m.size))
    for c in m.chunks {
        let loc = try #require(try store.location(of: c.id))
        var buf = [UInt8](repeating: 0, count: Int(c.length))
        try buf.withUnsafeMutableBytes { try reader.read(c.id, at: loc, into: $0) }
        out += buf
    }
    return out
}

/// One chunk's bytes through a fresh reader (no cached bases).
func readChunk(_ store: Store, _ id: ObjectID) throws -> [UInt8] {
    let loc = try #require(try store.location(of: id))
    var buf = [UInt8](repeating: 0, count: Int(loc.rawLength))
    try buf.withUnsafeMutableBytes { try ChunkReader(store: store).read(id, at: loc, into: $0) }
    return buf
}

func deltaHeader(_ store: Store, _ id: ObjectID) throws -> DeltaHeader {
    let loc = try #require(try store.location(of: id))
    return try readDeltaHeader(try store.handle(forPack: loc.pack), PackedEntry(id: id, location: loc))
}

/// What zstd alone (level 1) stores for `chunks` of `bytes`.
func plainZstd(_ bytes: [UInt8], _ chunks: [ManifestChunk]) throws -> Int {
    let z = ZstdCompressor(level: 1)
    var total = 0, at = 0
    for c in chunks {
        let piece = Array(bytes[at..<(at + Int(c.length))])
        at += Int(c.length)
        var out = [UInt8](repeating: 0, count: zstdCompressBound(piece.count))
        let n = try piece.withUnsafeBytes { s in try out.withUnsafeMutableBytes { try z.compress(s, into: $0) } }
        total += min(n, piece.count)
    }
    return total
}

/// Flips one bit of `path` at `offset`.
func flipByte(_ path: String, at offset: Int) throws {
    var b = try FS.readAll(path)
    b[offset] ^= 0x10
    writeFile(path, b)
}

// MARK: - Header

@Suite struct DeltaHeaderTests {
    let a = ObjectID.hash(Array("a".utf8)), b = ObjectID.hash(Array("b".utf8))

    func parse(_ bytes: [UInt8]) -> Result<DeltaHeader, DeltaFormatError> { bytes.withUnsafeBytes { DeltaHeader.parse($0) } }

    func rejected(_ bytes: [UInt8], _ why: String, sourceLocation: SourceLocation = #_sourceLocation) {
        switch parse(bytes) {
        case .success(let h): Issue.record("accepted \(h)", sourceLocation: sourceLocation)
        case .failure(let e): #expect(e.description.contains(why), "\(e)", sourceLocation: sourceLocation)
        }
    }

    @Test func everyTransformRoundTrips() throws {
        let headers = [
            DeltaHeader(transform: .prefix, bases: [a]),
            DeltaHeader(transform: .prefix, bases: [a, b, ObjectID.hash([1]), ObjectID.hash([2])]),
            DeltaHeader(transform: .xorPlanes, width: 4, bases: [b, a], skip: 12345),
            DeltaHeader(transform: .xorPlanes, width: 8, bases: [a], skip: PackFormat.maxDeltaBaseBytes),
            DeltaHeader(transform: .planes, width: 2),
        ]
        for h in headers {
            let bytes = h.encoded()
            #expect(bytes.count == h.size)
            #expect(try parse(bytes).get() == h)
            // Trailing bytes (the frame) are not the header's.
            #expect(try parse(bytes + [9, 9, 9]).get() == h)
        }
    }

    @Test func everyMalformedHeaderIsRefused() {
        let ok = DeltaHeader(transform: .prefix, bases: [a]).encoded()
        var x = ok
        for t: UInt8 in [0, 4, 255] {
            x[0] = t
            rejected(x, "unknown delta transform \(t)")
        }
        // Width: none for prefix; 2, 4 or 8 for the others.
        x = ok; x[1] = 4
        rejected(x, "bad prefix delta header")
        for w: UInt8 in [0, 1, 3, 16] {
            x = DeltaHeader(transform: .xorPlanes, width: 4, bases: [a]).encoded(); x[1] = w
            rejected(x, "bad xor delta header")
            x = DeltaHeader(transform: .planes, width: 4).encoded(); x[1] = w
            rejected(x, "bad planes header")
        }
        // Base count: 1...4 with a base, none for planes.
        rejected([1, 0, 0, 0, 0, 0, 0, 0], "bad prefix delta header")
        x = ok; x[2] = 5
        rejected(x + [UInt8](repeating: 7, count: 4 * 32), "bad prefix delta header")
        x = DeltaHeader(transform: .xorPlanes, width: 2, bases: [a]).encoded(); x[2] = 0
        rejected(x, "bad xor delta header")
        x = DeltaHeader(transform: .planes, width: 2).encoded(); x[2] = 1
        rejected(x + a.bytes, "bad planes header")
        // Reserved byte.
        x = ok; x[3] = 1
        rejected(x, "reserved delta header byte is 1")
        // Truncated: the fixed part, then the base list.
        for n in 0..<DeltaHeader.fixedSize { rejected(Array(ok.prefix(n)), "truncated delta header") }
        rejected(Array(ok.dropLast()), "truncated delta base list")
        rejected(Array(DeltaHeader(transform: .prefix, bases: [a, b]).encoded().dropLast(32)), "truncated delta base list")
        // The same base twice.
        rejected(DeltaHeader(transform: .prefix, bases: [a, b, a]).encoded(), "a base is listed twice")
        // Skip: none for planes, and within the bases' bytes (a prefix delta's is a hint).
        x = ok; x[4] = 1
        #expect(x.withUnsafeBytes { DeltaHeader.parse($0) } == .success(DeltaHeader(transform: .prefix, bases: [a], skip: 1)))
        rejected(DeltaHeader(transform: .prefix, bases: [a], skip: PackFormat.maxDeltaBaseBytes + 1).encoded(), "out of range")
        x = DeltaHeader(transform: .planes, width: 4).encoded(); x[5] = 1
        rejected(x, "bad planes header")
        rejected(DeltaHeader(transform: .xorPlanes, width: 4, bases: [a], skip: PackFormat.maxDeltaBaseBytes + 1).encoded(), "out of range")
        var big = DeltaHeader(transform: .xorPlanes, width: 4, bases: [a]).encoded()
        for k in 4..<8 { big[k] = 0xFF }
        rejected(big, "out of range")
    }
}

// MARK: - Transforms

@Suite struct ByteTransformTests {
    func planes(_ src: [UInt8], _ w: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0xEE, count: src.count)
        src.withUnsafeBytes { s in out.withUnsafeMutableBytes { ByteTransform.planes(s, width: w, into: $0) } }
        return out
    }

    func unplanes(_ src: [UInt8], _ w: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0xEE, count: src.count)
        src.withUnsafeBytes { s in out.withUnsafeMutableBytes { ByteTransform.unplanes(s, width: w, into: $0) } }
        return out
    }

    @Test func planesPutEachBytePositionTogetherAndKeepTheTail() {
        // Two 4-byte elements and three trailing bytes.
        let src: [UInt8] = [0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22]
        #expect(planes(src, 4) == [0, 10, 1, 11, 2, 12, 3, 13, 20, 21, 22])
        #expect(planes(src, 2) == [0, 2, 10, 12, 20, 1, 3, 11, 13, 21, 22])
        #expect(planes([5, 6, 7], 8) == [5, 6, 7])
    }

    @Test func unplanesInvertsPlanesForEveryWidthAndLength() {
        for w in [2, 4, 8] {
            for n in [0, 1, w - 1, w, w + 1, 3 * w + 1, 1000, 4099, 65_536 + 5] {
                let src = noise(n, seed: UInt64(w * 100_000 + n))
                let p = planes(src, w)
                #expect(p.count == n)
                #expect(unplanes(p, w) == src, "width \(w), length \(n)")
                if n >= 2 * w { #expect(p != src || Set(src).count == 1, "width \(w), length \(n): planes changed nothing") }
            }
        }
    }

    @Test func xorUsesTheBaseFromSkipAndLeavesBytesPastItsEnd() {
        let base: [UInt8] = Array(0..<20)
        var buf = [UInt8](repeating: 0xFF, count: 30)
        buf.withUnsafeMutableBytes { b in base.withUnsafeBytes { ByteTransform.xor(b, with: $0, skip: 3) } }
        // Bytes 0..<17 XOR base[3..<20]; the rest have no base byte (counts as 0).
        #expect(Array(buf[0..<17]) == (3..<20).map { 0xFF ^ UInt8($0) })
        #expect(buf[17...].allSatisfy { $0 == 0xFF })
        // Twice is the identity, at any skip (the 8-byte loop and the byte loop agree).
        for skip in [0, 1, 7, 8, 19] {
            let orig = noise(37, seed: UInt64(skip))
            var x = orig
            x.withUnsafeMutableBytes { b in base.withUnsafeBytes { ByteTransform.xor(b, with: $0, skip: skip) } }
            x.withUnsafeMutableBytes { b in base.withUnsafeBytes { ByteTransform.xor(b, with: $0, skip: skip) } }
            #expect(x == orig)
        }
        // A skip at or past the base's end, or nothing to change: no change, no trap.
        var y: [UInt8] = [1, 2, 3]
        y.withUnsafeMutableBytes { b in base.withUnsafeBytes { ByteTransform.xor(b, with: $0, skip: 20) } }
        #expect(y == [1, 2, 3])
        ByteTransform.xor(UnsafeMutableRawBufferPointer(start: nil, count: 0), with: UnsafeRawBufferPointer(start: nil, count: 0), skip: 0)
        base.withUnsafeBytes { ByteTransform.xor(UnsafeMutableRawBufferPointer(start: nil, count: 0), with: $0, skip: 0) }
    }

    func width(_ bytes: [UInt8]) -> Int? { bytes.withUnsafeBytes { ByteTransform.floatWidth($0) } }

    @Test func floatWidthRecognisesFloatsOfEachWidthAndNothingElse() {
        let fp32 = weights(16_384, sd: 0.02, seed: 1)
        #expect(width(floatBytes(fp32)) == 4)
        // bf16: the top half of each fp32.
        var bf16 = [UInt8]()
        for v in fp32 { let b = UInt16(v.bitPattern >> 16); bf16 += [UInt8(b & 0xFF), UInt8(b >> 8)] }
        #expect(width(bf16) == 2)
        // f16 of weights of a usual spread.
        var f16 = [UInt8]()
        for v in weights(16_384, sd: 1, seed: 2) { let b = Float16(v).bitPattern; f16 += [UInt8(b & 0xFF), UInt8(b >> 8)] }
        #expect(width(f16) == 2)
        var f64 = [UInt8]()
        var m = Mix(3)
        for _ in 0..<8192 { withUnsafeBytes(of: m.gaussian(0.02).bitPattern.littleEndian) { f64 += $0 } }
        #expect(width(f64) == 8)
        // Not floats.
        #expect(width(timeSeriesCSV(version: 1, keys: 20, base: 20)) == nil)
        #expect(width(noise(40_000, seed: 4)) == nil)
        #expect(width([UInt8](repeating: 0, count: 40_000)) == nil)
        // Too short to tell.
        #expect(width(Array(floatBytes(fp32).prefix(4000))) == nil)
    }

    /// f16 of small weights (N(0, 0.02)): its high byte holds the sign, all 5 exponent bits
    /// and 2 mantissa bits, so it takes more values than a bf16's (80-100 in a sample).
    @Test func floatWidthOfSmallHalfPrecisionWeights() {
        var f16 = [UInt8]()
        for v in weights(16_384, sd: 0.02, seed: 2) { let b = Float16(v).bitPattern; f16 += [UInt8(b & 0xFF), UInt8(b >> 8)] }
        #expect(width(f16) == 2)
    }
}

// MARK: - Choosing bases

@Suite struct DeltaBasisTests {
    func basis(_ lengths: [UInt32], ids: [Int]? = nil) -> (DeltaBasis, [ManifestChunk]) {
        let chunks = lengths.enumerated().map { i, n in ManifestChunk(id: ObjectID.hash([UInt8(truncatingIfNeeded: ids?[i] ?? i)]), length: n) }
        let size = lengths.reduce(UInt64(0)) { $0 + UInt64($1) }
        return (DeltaBasis(FileManifest(size: size, chunks: chunks)), chunks)
    }

    @Test func theChunksCoveringARegionAndWhereItStartsInThem() {
        let (b, c) = basis([100, 200, 300, 400])   // starts 0, 100, 300, 600; end 1000
        var r = b.overlapping(0, 50)
        #expect(r.chunks == [c[0]] && r.skip == 0)
        r = b.overlapping(0, 100)
        #expect(r.chunks == [c[0]] && r.skip == 0)
        r = b.overlapping(150, 350)
        #expect(r.chunks == [c[1], c[2]] && r.skip == 50)
        r = b.overlapping(300, 301)
        #expect(r.chunks == [c[2]] && r.skip == 0)
        r = b.overlapping(950, 5000)                 // runs past the old end: what there is
        #expect(r.chunks == [c[3]] && r.skip == 350)
        #expect(b.offset(of: c[2].id) == 300)
        #expect(b.offset(of: ObjectID.hash([99])) == nil)
    }

    @Test func nothingPastTheEndOrForAnEmptyRegionOrFile() {
        let (b, _) = basis([100, 200])
        #expect(b.overlapping(300, 400).chunks.isEmpty)
        #expect(b.overlapping(1000, 2000).chunks.isEmpty)
        #expect(b.overlapping(50, 50).chunks.isEmpty)
        #expect(b.overlapping(60, 50).chunks.isEmpty)
        let (empty, _) = basis([])
        #expect(empty.overlapping(0, 10).chunks.isEmpty)
    }

    @Test func atMostMaxBasesAndMaxBaseBytes() {
        let (b, c) = basis([10, 10, 10, 10, 10, 10])
        #expect(b.overlapping(0, 60).chunks == Array(c.prefix(DeltaHeader.maxBases)))
        #expect(b.overlapping(15, 60).chunks == Array(c[1..<5]))
        // Three 300 KiB chunks fit in 1 MiB of bases, a fourth would not.
        let k300 = UInt32(300 << 10)
        let (big, bc) = basis([k300, k300, k300, k300])
        #expect(big.overlapping(0, UInt64(4 * Int(k300))).chunks == Array(bc.prefix(3)))
        // A first chunk over the limit alone gives no bases.
        let (huge, _) = basis([UInt32(PackFormat.maxDeltaBaseBytes + 1), 10])
        #expect(huge.overlapping(0, 100).chunks.isEmpty)
    }

    @Test func aRepeatedChunkEndsTheBases() {
        // A B A C: the concatenation A B A would repeat A's bytes under one id.
        let (b, c) = basis([10, 10, 10, 10], ids: [1, 2, 1, 3])
        #expect(b.overlapping(0, 40).chunks == [c[0], c[1]])
        #expect(b.offset(of: c[2].id) == 0)     // the first occurrence
        #expect(b.overlapping(25, 40).chunks == [c[2], c[3]])
    }
}

// MARK: - Store round trips

@Suite struct DeltaStoreTests {
    @Test func insertedRowsAreStoredAsSmallDeltasAndReadBackExactly() throws {
        let store = try Store(root: tempDir("delta"))
        let v1 = timeSeriesCSV(version: 1), v2 = timeSeriesCSV(version: 2)
        let a = try archive(store, v1)
        let b = try archive(store, v2, previous: a.id)
        let new = b.chunks.filter { c in !a.chunks.contains { $0.id == c.id } }
        #expect(new.count >= 8, "\(new.count) new chunks of \(b.chunks.count): rows inserted throughout change every chunk")
        var deltaBytes = 0
        for c in new {
            let loc = try #require(try store.location(of: c.id))
            #expect(loc.encoding == .delta && loc.depth == 1, "\(c.id.short): \(loc.encoding) depth \(loc.depth)")
            #expect(try deltaHeader(store, c.id).transform == .prefix)
            #expect(try store.deltaBases(of: c.id).allSatisfy { base in a.chunks.contains { $0.id == base } })
            deltaBytes += Int(loc.storedLength)
        }
        let plain = try plainZstd(v2, new)
        #expect(deltaBytes * 10 < plain, "deltas \(deltaBytes) bytes, zstd alone \(plain)")
        #expect(b.stored * 20 < UInt64(v2.count), "version 2 added \(b.stored) bytes for a \(v2.count)-byte file")
        // Read back, through this store and a reopened one (no cached bases).
        #expect(try readBack(store, b.id) == v2)
        #expect(try readBack(store, a.id) == v1)
        let reopened = try Store(root: store.root)
        #expect(try readBack(reopened, b.id) == v2)
        #expect(try reopened.verify().problems.isEmpty)
    }

    @Test func perturbedFloatWeightsAreStoredAsXorPlanes() throws {
        let store = try Store(root: tempDir("delta"))
        let w1 = weights(256 * 1024, sd: 0.02, seed: 7)
        var m = Mix(8)
        let w2 = w1.map { $0 * Float(1 + m.gaussian(1e-3)) }
        let v1 = floatBytes(w1), v2 = floatBytes(w2)
        let a = try archive(store, v1)
        let b = try archive(store, v2, previous: a.id)
        let new = b.chunks.filter { c in !a.chunks.contains { $0.id == c.id } }
        #expect(new.count == b.chunks.count)
        var stored = 0
        for c in new {
            let loc = try #require(try store.location(of: c.id))
            #expect(loc.encoding == .delta && loc.depth == 1, "\(c.length)-byte chunk stored \(loc.encoding) in \(loc.storedLength)")
            guard loc.encoding == .delta else { continue }
            let h = try deltaHeader(store, c.id)
            #expect(h.transform == .xorPlanes && h.width == 4, "\(h)")
            stored += Int(loc.storedLength)
        }
        let plain = try plainZstd(v2, new)
        #expect(Double(stored) < 0.8 * Double(plain), "xor planes \(stored) bytes, zstd alone \(plain)")
        #expect(Double(stored) < 0.7 * Double(v2.count), "xor planes \(stored) bytes of \(v2.count)")
        #expect(try readBack(try Store(root: store.root), b.id) == v2)
        // New float data with no previous version: byte planes when they beat zstd (one frame
        // of planes shares one Huffman table per block, so for fp32 they seldom do), never
        // more than zstd alone.
        let fresh = try Store(root: tempDir("delta"))
        let c = try archive(fresh, v2)
        var at = 0
        for ch in c.chunks {
            let loc = try #require(try fresh.location(of: ch.id))
            let plainSize = try plainZstd(Array(v2[at..<(at + Int(ch.length))]), [ManifestChunk(id: ch.id, length: ch.length)])
            at += Int(ch.length)
            #expect(Int(loc.storedLength) <= plainSize)
            #expect(loc.depth == 0)
            if loc.encoding == .delta { #expect(try deltaHeader(fresh, ch.id) == DeltaHeader(transform: .planes, width: 4)) }
        }
        #expect(try readBack(try Store(root: fresh.root), c.id) == v2)
    }

    /// 40 versions, every chunk of each a delta against the one before: chains grow to the
    /// writers' limit and no further (a chain at the limit is followed down to an older
    /// version instead of starting over with a full copy), and the deepest version reads back.
    @Test func chainsStopAtTheMaximumDepthAndTheDeepestVersionReads() throws {
        let store = try Store(root: tempDir("delta"))
        let small = Chunker(ChunkerParameters(minSize: 512, avgSize: 2048, maxSize: 8192))
        var versions: [(id: ObjectID, bytes: [UInt8])] = []
        var deepest = (depth: UInt16(0), version: 0)
        var previous: ObjectID? = nil
        var before = Set<ObjectID>()
        var freshTotal = 0, wholeTotal = 0
        for v in 1...40 {
            let bytes = timeSeriesCSV(version: v, keys: 30, base: 10)
            let a = try archive(store, bytes, previous: previous, chunker: small)
            previous = a.id
            versions.append((a.id, bytes))
            var fresh = 0, whole = 0
            for c in a.chunks {
                let d = try #require(try store.location(of: c.id)).depth
                #expect(d <= DeltaEncoder.chainLimit)
                if d > deepest.depth { deepest = (d, v) }
                if !before.contains(c.id) { fresh += 1; if d == 0 { whole += 1 } }
            }
            if v > 1 { freshTotal += fresh; wholeTotal += whole }
            before = Set(a.chunks.map(\.id))
        }
        // Past the limit, chains are walked down, not restarted: new chunks stay deltas, but
        // for a few tiny ones (2 KiB chunks here) a delta spanning several versions does not
        // beat zstd alone.
        #expect(wholeTotal * 5 <= freshTotal, "\(wholeTotal) of \(freshTotal) new chunks stored whole")
        #expect(deepest.depth == DeltaEncoder.chainLimit, "deepest chain \(deepest.depth)")
        let reopened = try Store(root: store.root)
        #expect(try readBack(reopened, versions[deepest.version - 1].id) == versions[deepest.version - 1].bytes)
        for (id, bytes) in versions { #expect(try readBack(reopened, id) == bytes) }
        #expect(try reopened.verify().problems.isEmpty)
    }
}

// MARK: - Bad input

@Suite struct DeltaBadInputTests {
    /// Two versions of a CSV, each in its own pack and index: (store, v1, v2, a delta of v2
    /// and its first base).
    func twoVersions() throws -> (Store, (id: ObjectID, chunks: [ManifestChunk], stored: UInt64, index: String?),
                                   (id: ObjectID, chunks: [ManifestChunk], stored: UInt64, index: String?), ObjectID, ObjectID) {
        let store = try Store(root: tempDir("delta-bad"))
        let a = try archive(store, timeSeriesCSV(version: 1, keys: 40, base: 60))
        let b = try archive(store, timeSeriesCSV(version: 2, keys: 40, base: 60), previous: a.id)
        let delta = try #require(try b.chunks.first { try store.location(of: $0.id)?.encoding == .delta }).id
        let base = try #require(try store.deltaBases(of: delta).first)
        return (store, a, b, delta, base)
    }

    @Test func aDeltaWhoseBaseIsNotIndexedNamesBoth() throws {
        let (store, a, _, delta, base) = try twoVersions()
        let basePack = try #require(try store.pack(of: base))
        FS.remove(FS.join(store.indexDir, try #require(a.index)))
        FS.remove(store.packPath(basePack))
        let reopened = try Store(root: store.root)
        do {
            _ = try readChunk(reopened, delta)
            Issue.record("read a delta without its base")
        } catch let e as StoreError {
            #expect(e == .missingBase(delta: delta, base: base))
            #expect("\(e)".contains(delta.short) && "\(e)".contains(base.short))
            #expect(e.category == .integrity)
        }
    }

    @Test func aDeltaWhoseBasePackIsGoneNamesBoth() throws {
        let (store, _, _, delta, base) = try twoVersions()
        FS.remove(store.packPath(try #require(try store.pack(of: base))))
        #expect(throws: StoreError.missingBase(delta: delta, base: base)) { _ = try readChunk(try Store(root: store.root), delta) }
    }

    @Test func indexRepairKeepsIntactPacksWhoseBasesAreLostAndQuarantinesDamagedOnes() throws {
        let (store, _, b, delta, base) = try twoVersions()
        let deltaPack = try #require(try store.pack(of: delta))
        FS.remove(store.packPath(try #require(try store.pack(of: base))))
        let r = try Store(root: store.root).repairIndex()
        #expect(r.quarantined.isEmpty && r.packsIndexed == 1)
        let after = try Store(root: store.root)
        #expect(try after.pack(of: delta) == deltaPack)
        #expect(try after.location(of: b.id) != nil)
        #expect(throws: StoreError.missingBase(delta: delta, base: base)) { _ = try readChunk(after, delta) }
        // A pack with a damaged object is still moved aside.
        let loc = try #require(try after.location(of: b.id))
        try flipByte(after.packPath(deltaPack), at: Int(loc.offset) + PackFormat.entryHeaderSize + Int(loc.storedLength) / 2)
        let again = try Store(root: store.root).repairIndex()
        #expect(again.quarantined == [after.packPath(deltaPack)])
    }

    @Test func verifyingAPackAloneReportsTheBasesItLacks() throws {
        let (store, _, b, delta, base) = try twoVersions()
        let pack = try FileHandleFD.openRead(store.packPath(try #require(try store.pack(of: delta))))
        #expect(throws: StoreError.self) { try verifyPack(pack, bases: nil) }
        var unresolved: [(ObjectID, ObjectID)] = []
        _ = try verifyPack(pack, bases: nil) { e, x in unresolved.append((e.id, x)) }
        #expect(unresolved.contains { $0 == (delta, base) })
        #expect(Set(unresolved.map(\.0)).isSubset(of: Set(b.chunks.map(\.id))))
        #expect(try verifyPack(pack, bases: store).count > 0)
    }

    @Test func aCorruptDeltaFrameIsAnErrorNeverWrongBytes() throws {
        let (store, _, b, delta, _) = try twoVersions()
        let loc = try #require(try store.location(of: delta))
        let h = try deltaHeader(store, delta)
        let want = try readChunk(store, delta)
        let frameStart = Int(loc.offset) + PackFormat.entryHeaderSize + h.size
        let frameLength = Int(loc.storedLength) - h.size
        let path = store.packPath(try #require(try store.pack(of: delta)))
        let original = try FS.readAll(path)
        var errors = 0
        // A bit flipped anywhere in the frame: an error, or (a bit zstd ignores) the right bytes.
        for at in Set(stride(from: 0, to: frameLength, by: max(1, frameLength / 40)).map { $0 } + [frameLength - 1]) {
            try flipByte(path, at: frameStart + at)
            do {
                let got = try readChunk(try Store(root: store.root), delta)
                #expect(got == want, "byte \(at) of the frame flipped: wrong bytes read")
            } catch is StoreError {
                errors += 1
                #expect(try !Store(root: store.root).verify().problems.isEmpty)
            }
            writeFile(path, original)
        }
        #expect(errors > 30)
        #expect(try readBack(try Store(root: store.root), b.id) == timeSeriesCSV(version: 2, keys: 40, base: 60))
        // A damaged header: a base id that is no chunk.
        try flipByte(path, at: Int(loc.offset) + PackFormat.entryHeaderSize + DeltaHeader.fixedSize + 3)
        #expect(throws: StoreError.self) { _ = try readChunk(try Store(root: store.root), delta) }
    }

    @Test func aCorruptBaseIsAnErrorNamingBoth() throws {
        let (store, _, _, delta, base) = try twoVersions()
        let loc = try #require(try store.location(of: base))
        #expect(loc.encoding == .zstd)
        try flipByte(store.packPath(try #require(try store.pack(of: base))), at: Int(loc.offset) + PackFormat.entryHeaderSize + Int(loc.storedLength) / 2)
        do {
            _ = try readChunk(try Store(root: store.root), delta)
            Issue.record("read a delta through a corrupt base")
        } catch let e as StoreError {
            guard case .corruptPack = e else { Issue.record("\(e)"); return }
            #expect("\(e)".contains(base.short) && "\(e)".contains(delta.short), "\(e)")
        }
    }

    /// A store of hand-made entries (the writer stores what it is given).
    func crafted(_ entries: [(id: ObjectID, encoding: Encoding, depth: UInt16, raw: Int, data: [UInt8])]) throws -> Store {
        let store = try Store(root: tempDir("delta-crafted"))
        let w = try store.writer(compressionLevel: 1)
        for e in entries {
            try e.data.withUnsafeBytes { try w.add(id: e.id, type: .chunk, encoding: e.encoding, depth: e.depth, rawLength: e.raw, data: $0) }
        }
        try w.commit()
        return try Store(root: store.root)
    }

    /// A prefix delta of `bytes` against `base`'s bytes.
    func prefixDelta(_ bytes: [UInt8], against base: [UInt8], ids: [ObjectID]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: zstdCompressBound(bytes.count))
        let n = try bytes.withUnsafeBytes { s in try base.withUnsafeBytes { p in try out.withUnsafeMutableBytes { try ZstdCompressor(level: 1).compress(s, prefix: p, into: $0) } } }
        return DeltaHeader(transform: .prefix, bases: ids).encoded() + out.prefix(n)
    }

    func expectCorrupt(_ store: Store, _ id: ObjectID, _ why: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try readChunk(store, id)
            Issue.record("read \(id.short)", sourceLocation: sourceLocation)
        } catch let e as StoreError {
            guard case .corruptPack(_, _, let w) = e else { Issue.record("\(e)", sourceLocation: sourceLocation); return }
            #expect(w.contains(why), "\(w)", sourceLocation: sourceLocation)
        } catch { Issue.record("\(error)", sourceLocation: sourceLocation) }
    }

    @Test func aBaseNotShallowerThanItsDeltaIsRefused() throws {
        let x = noise(3000, seed: 1), y = x + Array("tail".utf8)
        let xi = ObjectID.hash(x), yi = ObjectID.hash(y)
        // x: byte planes (no base) claiming depth 2; y against x at depth 1, then 2.
        var planes = [UInt8](repeating: 0, count: x.count)
        x.withUnsafeBytes { s in planes.withUnsafeMutableBytes { ByteTransform.planes(s, width: 4, into: $0) } }
        var frame = [UInt8](repeating: 0, count: zstdCompressBound(planes.count))
        let n = try planes.withUnsafeBytes { s in try frame.withUnsafeMutableBytes { try ZstdCompressor(level: 1).compress(s, into: $0) } }
        frame.removeLast(frame.count - n)
        let xData = DeltaHeader(transform: .planes, width: 4).encoded() + frame
        for d: UInt16 in [1, 2] {
            let store = try crafted([(xi, .delta, 2, x.count, xData), (yi, .delta, d, y.count, try prefixDelta(y, against: x, ids: [xi]))])
            expectCorrupt(store, yi, "has depth 2, not below its own \(d)")
        }
        // A delta with a base at depth 0.
        let store = try crafted([(xi, .raw, 0, x.count, x), (yi, .delta, 0, y.count, try prefixDelta(y, against: x, ids: [xi]))])
        expectCorrupt(store, yi, "has bases but depth 0")
        // Right depths read.
        let good = try crafted([(xi, .raw, 0, x.count, x), (yi, .delta, 1, y.count, try prefixDelta(y, against: x, ids: [xi]))])
        #expect(try readChunk(good, yi) == y)
    }

    @Test func basesInACycleAreAnErrorNotAHang() throws {
        let x = noise(3000, seed: 2), y = noise(3000, seed: 3)
        let xi = ObjectID.hash(x), yi = ObjectID.hash(y)
        let xd = try prefixDelta(x, against: y, ids: [yi]), yd = try prefixDelta(y, against: x, ids: [xi])
        // Depths that lie every way a cycle allows, and a delta that is its own base.
        for (dx, dy): (UInt16, UInt16) in [(1, 1), (3, 2), (2, 3), (32, 31), (1, 32)] {
            let store = try crafted([(xi, .delta, dx, x.count, xd), (yi, .delta, dy, y.count, yd)])
            let start = Date()
            #expect(throws: StoreError.self) { _ = try readChunk(store, xi) }
            #expect(throws: StoreError.self) { _ = try readChunk(store, yi) }
            #expect(throws: StoreError.self) { try verifyPack(FileHandleFD.openRead(store.packPath(try #require(try store.pack(of: xi)))), bases: nil) }
            #expect(try !store.verify().problems.isEmpty)
            #expect(Date().timeIntervalSince(start) < 2)
        }
        let selfish = try crafted([(xi, .delta, 5, x.count, try prefixDelta(x, against: x, ids: [xi]))])
        expectCorrupt(selfish, xi, "not below its own 5")
    }

    @Test func aDeltaThatDecodesToTheWrongBytesFailsItsHash() throws {
        let x = noise(3000, seed: 4), y = x.reversed() + [1]
        let xi = ObjectID.hash(x), yi = ObjectID.hash(y)
        // y's entry holds a valid delta for other bytes of the same length.
        let other = [UInt8](repeating: 7, count: y.count)
        let store = try crafted([(xi, .raw, 0, x.count, x), (yi, .delta, 1, y.count, try prefixDelta(other, against: x, ids: [xi]))])
        expectCorrupt(store, yi, "fails its SHA-256 check")
        // A frame made against other base bytes of the same length: wrong history, caught.
        let p = noise(3000, seed: 9), z = Array(p[100..<2900]) + Array("new rows".utf8)
        let zi = ObjectID.hash(z)
        let store2 = try crafted([(xi, .raw, 0, x.count, x), (zi, .delta, 1, z.count, try prefixDelta(z, against: p, ids: [xi]))])
        #expect(throws: StoreError.self) { _ = try readChunk(store2, zi) }
    }
}

// MARK: - Version 1 stores

@Suite struct StoreVersionOneTests {
    /// Rewrites a store written today (no deltas in it) as mlv-store 1 would have written
    /// it: VERSION, pack and index headers saying 1, pack ids recomputed.
    func downgrade(_ root: String) throws {
        let store = try Store(root: root)
        var packs: [(ObjectID, [PackedEntry])] = []
        for p in try store.knownPacks() {
            let old = store.packPath(p)
            var bytes = try FS.readAll(old)
            #expect(bytes[8] == 2)
            bytes[8] = 1
            let tmp = FS.join(store.tmpDir, "v1.pack")
            writeFile(tmp, bytes)
            let h = try FileHandleFD.openRead(tmp)
            let id = try computePackID(h)
            let entries = try scanPack(h)
            #expect(entries.allSatisfy { $0.encoding != .delta && $0.depth == 0 })
            FS.remove(old)
            try FS.makeDirectories(FS.dirname(store.packPath(id)))
            try FS.rename(tmp, store.packPath(id))
            packs.append((id, entries))
        }
        for n in try store.indexFileNames() { FS.remove(FS.join(store.indexDir, n)) }
        var idx = encodeIndex(packs: packs)
        idx[8] = 1
        writeFile(FS.join(store.indexDir, Layout.indexFileName(idx)), idx)
        writeFile(FS.join(root, Layout.versionFile), Array("mlv-store 1\n".utf8))
    }

    @Test func aVersionOneStoreIsReadAndAfterOneWriteIsVersionTwoWithBothReadable() throws {
        let root = tempDir("v1")
        let v1 = timeSeriesCSV(version: 1, keys: 40, base: 60), v2 = timeSeriesCSV(version: 2, keys: 40, base: 60)
        let old: ObjectID
        do {
            let store = try Store(root: root)
            old = try archive(store, v1).id
            let w = try store.writer(compressionLevel: 1)
            try w.addObject(Array("a manifest-sized object".utf8), type: .tree)
            try w.commit()
        }
        try downgrade(root)
        let store = try Store(root: root)
        #expect(store.formatVersion == 1)
        for p in try store.knownPacks() { #expect(try FS.readAll(store.packPath(p))[8] == 1) }
        #expect(try readBack(store, old) == v1)
        #expect(try store.verify().problems.isEmpty)
        #expect(try String(decoding: FS.readAll(FS.join(root, Layout.versionFile)), as: UTF8.self) == "mlv-store 1\n")
        // One more write: deltas against the version-1 pack's chunks, VERSION raised first.
        let b = try archive(store, v2, previous: old)
        #expect(try b.chunks.contains { try store.location(of: $0.id)?.encoding == .delta })
        #expect(try String(decoding: FS.readAll(FS.join(root, Layout.versionFile)), as: UTF8.self) == "mlv-store 2\n")
        #expect(store.formatVersion == 2)
        let mixed = try Store(root: root)
        #expect(mixed.formatVersion == 2)
        let versions = try Set(mixed.knownPacks().map { try FS.readAll(mixed.packPath($0))[8] })
        #expect(versions == [1, 2])
        #expect(try readBack(mixed, old) == v1)
        #expect(try readBack(mixed, b.id) == v2)
        #expect(try mixed.verify().problems.isEmpty)
        // Index repair keeps both (and writes a version-2 index).
        let repaired = try mixed.repairIndex()
        #expect(repaired.quarantined.isEmpty && repaired.packsIndexed == 3)
        #expect(try readBack(try Store(root: root), b.id) == v2)
    }

    @Test func aNewerStoreVersionIsRefused() throws {
        let root = tempDir("v3")
        _ = try Store(root: root)
        writeFile(FS.join(root, Layout.versionFile), Array("mlv-store 3\n".utf8))
        #expect(throws: StoreError.unsupportedVersion(path: FS.join(root, Layout.versionFile), found: 3)) { try Store(root: root) }
    }
}

// MARK: - Fuzz seeds

/// Writes the seeds of the "delta" fuzz target (Tests/Fuzz/seeds/delta/): small real packs
/// holding deltas with their bases (text against a prefix, floats as XOR planes, a chain of
/// three versions, byte planes), and crafted ones (bases in a cycle, a base too deep).
/// Runs only with MLV_WRITE_FUZZ_SEEDS=<folder>:
///   MLV_WRITE_FUZZ_SEEDS=$PWD/Tests/Fuzz/seeds/delta swift test --filter DeltaFuzzSeeds
@Suite struct DeltaFuzzSeeds {
    /// The objects `ids` of `src` copied as stored into one new pack; its bytes.
    func onePack(from src: Store, _ ids: [ObjectID]) throws -> [UInt8] {
        let dst = try Store(root: tempDir("seed"))
        let w = try dst.writer(compressionLevel: 1)
        for id in ids {
            let (loc, data) = try #require(try src.storedBytes(id))
            try data.withUnsafeBytes { try w.add(id: id, type: loc.type, encoding: loc.encoding, depth: loc.depth, rawLength: Int(loc.rawLength), data: $0) }
        }
        try w.commit()
        return try FS.readAll(dst.packPath(try #require(try dst.knownPacks().first)))
    }

    /// Chunks of `versions`, each archived against the one before, in one pack.
    func history(_ versions: [[UInt8]], chunker: Chunker) throws -> [UInt8] {
        let store = try Store(root: tempDir("seed"))
        var ids: [ObjectID] = [], previous: ObjectID? = nil
        for v in versions {
            let a = try archive(store, v, previous: previous, chunker: chunker)
            previous = a.id
            ids += a.chunks.map(\.id).filter { !ids.contains($0) }
        }
        #expect(try ids.contains { try store.location(of: $0)?.encoding == .delta })
        return try onePack(from: store, ids)
    }

    @Test func writeSeeds() throws {
        guard let dir = ProcessInfo.processInfo.environment["MLV_WRITE_FUZZ_SEEDS"] else { return }
        try FS.makeDirectories(dir)
        func save(_ name: String, _ bytes: [UInt8]) { writeFile(dir + "/" + name + ".pack", bytes) }
        let tiny = Chunker(ChunkerParameters(minSize: 256, avgSize: 1024, maxSize: 4096))
        save("text-prefix", try history([timeSeriesCSV(version: 1, keys: 6, base: 20), timeSeriesCSV(version: 2, keys: 6, base: 20)], chunker: tiny))
        save("text-chain", try history((1...3).map { timeSeriesCSV(version: $0, keys: 4, base: 15) }, chunker: tiny))
        let floats = Chunker(ChunkerParameters(minSize: 4096, avgSize: 8192, maxSize: 16384))
        let w1 = weights(3000, sd: 0.02, seed: 1)
        var m = Mix(2)
        let w2 = w1.map { $0 * Float(1 + m.gaussian(1e-3)) }
        save("float-xor", try history([floatBytes(w1), floatBytes(w2)], chunker: floats))
        // Crafted: byte planes with no base; a cycle; a base deeper than its delta.
        let x = floatBytes(weights(1200, sd: 0.02, seed: 3)), xi = ObjectID.hash(x)
        var planes = [UInt8](repeating: 0, count: x.count)
        x.withUnsafeBytes { s in planes.withUnsafeMutableBytes { ByteTransform.planes(s, width: 4, into: $0) } }
        var frame = [UInt8](repeating: 0, count: zstdCompressBound(planes.count))
        let n = try planes.withUnsafeBytes { s in try frame.withUnsafeMutableBytes { try ZstdCompressor(level: 1).compress(s, into: $0) } }
        let planesEntry = DeltaHeader(transform: .planes, width: 4).encoded() + frame.prefix(n)
        let bad = DeltaBadInputTests()
        let y = Array("key,value\n".utf8) + x.prefix(600), yi = ObjectID.hash(y)
        let yd = try bad.prefixDelta(y, against: x, ids: [xi])
        func pack(_ entries: [(id: ObjectID, encoding: Encoding, depth: UInt16, raw: Int, data: [UInt8])]) throws -> [UInt8] {
            let s = try bad.crafted(entries)
            return try FS.readAll(s.packPath(try #require(try s.knownPacks().first)))
        }
        save("planes-and-prefix", try pack([(xi, .delta, 0, x.count, planesEntry), (yi, .delta, 1, y.count, yd)]))
        let xd = try bad.prefixDelta(x, against: y, ids: [yi])
        save("cycle", try pack([(xi, .delta, 2, x.count, xd), (yi, .delta, 1, y.count, yd)]))
        save("deep-base", try pack([(xi, .delta, 3, x.count, planesEntry), (yi, .delta, 2, y.count, yd)]))
    }
}
