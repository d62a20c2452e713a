import MLVSystem
import Dispatch
import Glibc
import MLVZstd
import Synchronization

/// What a write session stored, for the "N bytes new, M already stored" summary.
public struct IngestStats: Sendable, Equatable {
    public var files = 0
    public var bytesRead: UInt64 = 0
    public var chunks = 0
    public var newChunks = 0
    public init() {}
}

/// Number of CPUs to use for hashing and compression.
public let workerCount: Int = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))

/// Turns files into chunks in the store and returns their manifests.
///
/// A file is read in 8 MiB blocks, each in one parallel step on all cores: the chunks of
/// block k are hashed, those already stored dropped, the rest compressed, while one worker
/// reads block k+1 and cuts it into chunks (the chunker is sequential by nature, so it is
/// one task of the step); then, in file order, records are counted and new chunks appended
/// to the pack. Memory is two blocks plus their compressed output, whatever the file size.
public final class Archiver {
    /// Where new objects go; nil to only compute ids (status and diff of working files).
    public let writer: StoreWriter?
    public private(set) var stats = IngestStats()
    /// The chunks of the file archived last.
    public private(set) var lastChunks: [ManifestChunk] = []
    /// Called on the calling thread after each block with the bytes read so far of the file.
    public var onProgress: ((UInt64) -> Void)?
    /// Scans of table chunks already made: a table committed again scans only new chunks.
    public var recordCache: RecordCache? {
        get { stage.recordCache }
        set { stage.recordCache = newValue }
    }
    let chunker: Chunker
    private let stage: BlockStage

    public static let blockSize = 8 * 1024 * 1024 // bytes read per step
    /// The most of a file's first bytes `archiveFile(countLines:)` keeps (`head`): what a
    /// table's header and its headerless test read (`TableReader`'s sample is no longer).
    public static let headLimit = 1 << 20

    /// The two block buffers, allocated once and reused for every file of a session.
    private lazy var slots: [Block] = {
        let capacity = Archiver.blockSize + chunker.params.maxSize
        return [Block(capacity: capacity), Block(capacity: capacity)]
    }()

    public init(writer: StoreWriter?, level: Int32 = 1, chunker: Chunker = Chunker()) {
        self.writer = writer
        self.chunker = chunker
        self.stage = BlockStage(writer: writer, level: level)
    }

    /// Stores a regular file's content and manifest; returns the manifest id and size.
    /// With `countLines`, line breaks are counted on the worker threads as the chunks stream
    /// through (CSV rows at no extra pass) and the first line is kept (the header). With a
    /// `tableSeparator` too, only record ends count: a line break inside a quoted field
    /// (RFC 4180, as `TableReader` reads it) is data, and a file ending inside quotes has no
    /// count at all (`lineBreaks` nil: a count is exact or absent), and `records` counts the
    /// records with content: a blank line (nothing, or a lone CR, before its line break; a
    /// leading UTF-8 BOM is no content) is no record, as `TableReader` skips it.
    ///
    /// `previous`: the manifest of the file's previous version, when known; new chunks may
    /// then be stored as deltas against its chunks (`DeltaEncoder`).
    public func archiveFile(at path: String, countLines: Bool = false, tableSeparator: UInt8? = nil,
                            previous: ObjectID? = nil) throws -> ArchivedFile {
        let f = try FileHandleFD.openRead(path)
        stage.reset(countLines: countLines, separator: tableSeparator)
        if let previous, let w = writer, let m = try? w.store.manifest(previous) { stage.basis = DeltaBasis(m) }
        var cur = slots[0], next = slots[1]
        var filled = try Archiver.fill(cur, carry: 0, offset: 0, from: f, chunker: chunker)
        var total = UInt64(filled.read)
        var lastByte = filled.lastByte
        // The first bytes (the header and the rows after it), all in the first block.
        let head = countLines ? Array(UnsafeRawBufferPointer(rebasing: cur.buf[0..<min(filled.read, Archiver.headLimit)])) : []
        onProgress?(total)
        while true {
            // The uncut tail starts the next block. `next` is free: its block was processed
            // before this one was filled.
            let tail = cur.bounds.last!
            if !filled.eof && filled.leftover > 0 {
                next.buf.baseAddress!.copyMemory(from: cur.buf.baseAddress! + tail, byteCount: filled.leftover)
            }
            let ahead = FillResult.Box()
            let reading: (@Sendable () -> Void)? = filled.eof ? nil : { @Sendable [next, carry = filled.leftover, offset = total - UInt64(filled.leftover), chunker] in
                do { ahead.result = try Archiver.fill(next, carry: carry, offset: offset, from: f, chunker: chunker) } catch { ahead.error = error }
            }
            if cur.bounds.count > 1 { try stage.process(cur, alongside: reading) } else { reading?() }
            if let e = ahead.error { throw e }
            guard let r = ahead.result else { break }
            filled = r
            total += UInt64(r.read - r.carry)
            if let b = r.lastByte { lastByte = b }
            onProgress?(total)
            swap(&cur, &next)
        }
        let chunks = stage.takeChunks()
        lastChunks = chunks
        stats.files += 1
        stats.bytesRead += total
        stats.chunks += chunks.count
        stats.newChunks += stage.newChunks
        let manifest = FileManifest(size: total, chunks: chunks)
        return ArchivedFile(id: try store(manifest.encoded(), type: .file), size: total,
                            lineBreaks: countLines && !stage.endsInQuotes ? stage.lineBreaks : nil,
                            records: countLines && !stage.endsInQuotes ? stage.finishRecords() : nil, head: head,
                            endsWithLineBreak: lastByte == nil || lastByte == 0x0A)
    }

    /// What `fill` did to a block.
    struct FillResult {
        var read: Int          // bytes in the block: the carried ones and those read
        var carry: Int
        var leftover: Int      // uncut bytes at the end (the next block's start)
        var eof: Bool
        var lastByte: UInt8?   // the last byte read from the file, if any was

        /// Hands a fill done on a worker thread back to the caller, who reads it after the
        /// parallel step that ran it has ended.
        final class Box: @unchecked Sendable {
            var result: FillResult?
            var error: (any Error)?
        }
    }

    /// Reads the next block of `f` into `b` after the `carry` bytes already at its start and
    /// cuts it into chunks (`b.bounds`). Runs on a worker, beside the hashing of the block
    /// before (`BlockStage.process(_:alongside:)`).
    static func fill(_ b: Block, carry: Int, offset: UInt64, from f: FileHandleFD, chunker: Chunker) throws -> FillResult {
        let want = Archiver.blockSize
        let n = try f.read(into: UnsafeMutableRawBufferPointer(rebasing: b.buf[carry..<(carry + want)]))
        let valid = carry + n
        let eof = n < want
        b.offset = offset
        b.bounds.removeAll(keepingCapacity: true)
        var off = 0
        while off < valid {
            guard let len = chunker.cut(UnsafeRawBufferPointer(rebasing: b.buf[off..<valid]), atEOF: eof) else { break }
            b.bounds.append(off)
            off += len
        }
        b.bounds.append(off)
        return FillResult(read: valid, carry: carry, leftover: valid - off, eof: eof, lastByte: n > 0 ? b.buf[valid - 1] : nil)
    }

    /// A file's chunks (ids and lengths) without storing anything: for comparisons.
    public func chunkList(at path: String) throws -> [ManifestChunk] {
        _ = try archiveFile(at: path)
        return lastChunks
    }

    /// Stores (or, without a writer, only hashes) a manifest, tree or symlink target.
    public func store(_ bytes: [UInt8], type: ObjectType) throws -> ObjectID {
        guard let w = writer else { return ObjectID.hash(bytes) }
        return try w.addObject(bytes, type: type)
    }
}

/// A file as stored: its manifest id and what was learned while reading it.
public struct ArchivedFile: Sendable {
    public var id: ObjectID
    public var size: UInt64
    /// Number of "\n" bytes, when asked for.
    public var lineBreaks: UInt64?
    /// A table's records with content (header included; see `archiveFile`), when asked for
    /// with a separator.
    public var records: UInt64?
    /// The file's first `Archiver.headLimit` bytes (all of a smaller file), when asked for.
    public var head: [UInt8]
    public var endsWithLineBreak: Bool
}

/// A reusable block buffer. Owned by one stage at a time, handed over through the semaphore.
final class Block: @unchecked Sendable {
    let buf: UnsafeMutableRawBufferPointer
    var bounds: [Int] = []       // chunk start offsets, then the end of the last chunk
    var offset: UInt64 = 0       // of buf[0] in the file

    init(capacity: Int) {
        // In 2 MiB pages where the kernel allows (transparent huge pages on request): the
        // first read into a fresh buffer otherwise takes a page fault per 4 KiB, measured at
        // 8 % of a re-commit's time on the reading thread, which is the pipeline's slowest.
        let huge = 2 << 20
        let size = (capacity + huge - 1) / huge * huge
        buf = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: huge)
        _ = madvise(buf.baseAddress, size, MADV_HUGEPAGE)
    }

    deinit { buf.deallocate() }
}

/// Hashing, counting and storing a block's chunks: runs on the calling thread and fans out to
/// all cores inside `process`. @unchecked Sendable: `process` is never run concurrently with
/// itself.
final class BlockStage: @unchecked Sendable {
    let writer: StoreWriter?
    let compressors: [ZstdCompressor]
    /// One per worker, over `compressors`.
    let encoders: [DeltaEncoder]
    /// Scans of a table's chunks already made (`RecordCache`); nil to scan every chunk.
    var recordCache: RecordCache?
    /// The file's previous version, and the offset from new to old positions at the last
    /// chunk both share (`encodeAgainst`).
    var basis: DeltaBasis?
    var shift: Int64 = 0
    private var chunks: [ManifestChunk] = []
    private(set) var newChunks = 0
    private(set) var lineBreaks: UInt64 = 0
    private var countLines = false
    /// Record ends of a CSV/TSV: line breaks outside quoted fields (see `QuoteScanner`).
    private var quotes: QuoteScanner? = nil
    /// The next chunk is the file's first (where a BOM is no content).
    private var atFileStart = true
    /// The last two bytes of the blocks processed so far (for `QuoteScanner.guess`).
    private var tail: (before: UInt8?, last: UInt8?) = (nil, nil)
    var endsInQuotes: Bool { quotes?.endsInsideQuotes ?? false }
    /// Records with content, the last one (without a line break) included: nil without a
    /// separator.
    func finishRecords() -> UInt64? {
        guard var q = quotes else { return nil }
        q.finish()
        return q.records
    }
    private var out = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 64)

    init(writer: StoreWriter?, level: Int32) {
        self.writer = writer
        compressors = (0..<workerCount).map { _ in ZstdCompressor(level: level) }
        encoders = compressors.map { DeltaEncoder(store: writer?.store, compressor: $0) }
    }

    deinit { out.deallocate() }

    func reset(countLines: Bool, separator: UInt8? = nil) {
        chunks = []
        newChunks = 0
        lineBreaks = 0
        atFileStart = true
        tail = (nil, nil)
        basis = nil
        shift = 0
        self.countLines = countLines
        quotes = countLines ? separator.map { QuoteScanner(separator: $0) } : nil
    }

    func takeChunks() -> [ManifestChunk] {
        defer { chunks = [] }
        return chunks
    }

    /// Hashes, counts and stores the chunks of `b` on all cores. `alongside` (reading and
    /// cutting the next block) runs as one more task of the same parallel step, taken first
    /// by whichever worker starts first: the step's work is then shared evenly, where a
    /// separate reading thread competed with the workers for the cores and set the pace.
    func process(_ b: Block, alongside: (@Sendable () -> Void)? = nil) throws {
        let count = b.bounds.count - 1
        let src = SendableBox(UnsafeRawBufferPointer(b.buf))
        let bounds = b.bounds
        let workers = min(compressors.count, count)
        // Each chunk gets a compression slot of its worst-case size.
        var slotStarts = [Int]()
        slotStarts.reserveCapacity(count + 1)
        var total = 0
        for i in 0..<count {
            slotStarts.append(total)
            total += zstdCompressBound(bounds[i + 1] - bounds[i])
        }
        slotStarts.append(total)
        let starts = slotStarts
        if writer != nil && out.count < total {
            out.deallocate()
            out = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 64)
        }
        var ids = [ObjectID](repeating: ObjectID(bytes: [UInt8](repeating: 0, count: 32))!, count: count)
        // How each chunk is stored (`Choice.stored`: it is already, nothing to write).
        var chosen = [DeltaEncoder.Choice](repeating: .stored, count: count)
        let hasBasis = basis != nil
        var breaks = [UInt64](repeating: 0, count: countLines ? count : 0)
        // Of a table's chunks: those not counted in the parallel pass (a quote in them, or a
        // scan known from the cache), whose count is settled in file order.
        var unscanned = [Bool](repeating: false, count: quotes != nil ? count : 0)
        let recordCache = quotes != nil ? self.recordCache : nil
        // Of chunks without quotes: blank lines that start and end inside the chunk.
        var blanks = [UInt64](repeating: 0, count: quotes != nil ? count : 0)
        let countLines = self.countLines
        let slots = SendableBox(out)
        let encoders = SendableBox(self.encoders)
        let writer = SendableBox(self.writer)
        let failure = Mutex<(any Error)?>(nil)
        let next = Mutex(0)   // chunks are handed out one at a time: sizes vary, so static shares would idle a core
        // Quoted chunks scanned from a guessed start (`QuoteScanner.guess`), by index.
        let guessed = Mutex<[Int: (entry: QuoteScanner.State, scanned: QuoteScanner, breaks: UInt64)]>([:])
        let separator = quotes?.separator, prior = self.tail
        // One pass on all cores: hash each chunk and, when it is new, compress it. Skipping
        // compression for stored chunks is what makes re-committing a big file cheap. The
        // writer's set of session ids is only changed below, after this pass, so reading it
        // here from several threads is safe.
        blanks.withUnsafeMutableBufferPointer { blp in
        unscanned.withUnsafeMutableBufferPointer { up in
        ids.withUnsafeMutableBufferPointer { idp in
          breaks.withUnsafeMutableBufferPointer { bp in
            chosen.withUnsafeMutableBufferPointer { wp in
                let idOut = SendableBox(idp), wOut = SendableBox(wp), bOut = SendableBox(bp)
                let blOut = SendableBox(blp), uOut = SendableBox(up)
                let side = Mutex(alongside)
                parallel(min(compressors.count, max(workers, alongside == nil ? 1 : 2))) { w in
                    if let task = side.withLock({ t in defer { t = nil }; return t }) { task() }
                    while true {
                        let i = next.withLock { n in
                            defer { n += 1 }
                            return n
                        }
                        if i >= count { break }
                        let chunk = UnsafeRawBufferPointer(rebasing: src.value[bounds[i]..<bounds[i + 1]])
                        let id = ObjectID.hash(chunk)
                        idOut.value[i] = id
                        // A table's chunk: its scan from a guessed start, from the cache when
                        // known; else counted below.
                        var known = false, quoted = false
                        if let sep = separator {
                            let at = bounds[i]
                            let last = at >= 1 ? src.value[at - 1] : prior.last
                            let before = at >= 2 ? src.value[at - 2] : at == 1 ? prior.last : prior.before
                            if let last {   // not the file's first byte (nor its BOM)
                                // Outside quotes, else inside a quoted field.
                                let guesses = [QuoteScanner.guess(separator: sep, before: before, last: last),
                                               QuoteScanner.insideQuotes(separator: sep)]
                                if let cache = recordCache {
                                    for g in guesses {
                                        guard let e = cache.effect(of: id, separator: sep, from: g.state) else { continue }
                                        guessed.withLock { $0[i] = (g.state, e.scanner, e.breaks) }
                                        known = true
                                        break
                                    }
                                }
                                if !known && memchr(chunk.baseAddress!, 0x22, chunk.count) != nil {
                                    quoted = true
                                    // Only the fast scan: where it declines, the guess is most
                                    // likely wrong, and the chunk is scanned in file order.
                                    for var g in guesses {
                                        let entry = g.state
                                        if let n = g.scanWords(chunk) {
                                            guessed.withLock { $0[i] = (entry, g, n) }
                                            break
                                        }
                                    }
                                }
                            } else {
                                quoted = memchr(chunk.baseAddress!, 0x22, chunk.count) != nil
                            }
                            if known || quoted {
                                uOut.value[i] = true
                            } else {
                                (bOut.value[i], blOut.value[i]) = lineBreaksAndBlanks(in: chunk)   // one pass for both
                            }
                        } else if countLines {
                            bOut.value[i] = countByte(0x0A, in: chunk)
                        }
                        guard let wr = writer.value else { continue }
                        do {
                            if try wr.has(id) { continue }
                            // With a previous version, encoded once regions are aligned (below).
                            if hasBasis { wOut.value[i] = .pending; continue }
                            let dst = UnsafeMutableRawBufferPointer(rebasing: slots.value[starts[i]..<starts[i + 1]])
                            wOut.value[i] = try encoders.value[w].encode(chunk, region: nil, into: dst)
                        } catch {
                            failure.withLock { $0 = $0 ?? error }
                        }
                    }
                }
            }
          }
        }
        }
        }
        if let e = failure.withLock({ $0 }) { throw e }
        if let basis { try encodeAgainst(basis, block: b, ids: ids, chosen: &chosen, slots: out, starts: starts) }
        if var q = quotes {
            let guesses = guessed.withLock { $0 }
            // In file order: the state at a chunk's start is the previous chunk's end.
            for i in 0..<count {
                var start = bounds[i]
                if atFileStart {
                    // A UTF-8 BOM is not part of the first field (`TableReader` drops it): a
                    // quote after it opens the field, and a line of only a BOM is blank.
                    atFileStart = false
                    let c = src.value
                    if bounds[i + 1] - start >= 3 && c[start] == 0xEF && c[start + 1] == 0xBB && c[start + 2] == 0xBF { start += 3 }
                }
                let chunk = UnsafeRawBufferPointer(rebasing: src.value[start..<bounds[i + 1]])
                let entry = q.state, before = q.records
                let whole = start == bounds[i]       // else the key would not name what was scanned
                let n: UInt64
                if whole, let g = guesses[i], g.entry == entry {
                    q.take(g.scanned)          // the guess was right: its scan is this one
                    n = g.breaks
                } else if whole, let e = recordCache?.effect(of: ids[i], separator: q.separator, from: entry) {
                    q.take(e.scanner)
                    n = e.breaks
                } else if !unscanned[i] && !q.inQuotes {
                    n = q.skip(chunk, lineBreaks: breaks[i], blanks: blanks[i])
                } else {
                    n = q.scan(chunk)
                }
                lineBreaks += n
                if whole {
                    recordCache?.remember(ids[i], separator: q.separator, from: entry, to: q.state, breaks: n, records: q.records - before)
                }
            }
            quotes = q
        } else {
            lineBreaks += breaks.reduce(0, +)
        }
        let end = bounds[count]
        if end >= 2 { tail = (src.value[end - 2], src.value[end - 1]) } else if end == 1 { tail = (tail.last, src.value[0]) }
        for i in 0..<count {
            chunks.append(ManifestChunk(id: ids[i], length: UInt32(bounds[i + 1] - bounds[i])))
        }
        guard let writer = self.writer else { return }
        // Append the new chunks in file order (packs come out the same for the same input).
        for i in 0..<count where chosen[i].length > 0 {
            let raw = bounds[i + 1] - bounds[i], c = chosen[i]
            if try writer.has(ids[i]) { continue }      // a repeat within this block
            newChunks += 1
            if c.encoding == .raw {
                try writer.add(id: ids[i], type: .chunk, encoding: .raw, rawLength: raw,
                               data: UnsafeRawBufferPointer(rebasing: src.value[bounds[i]..<bounds[i + 1]]))
            } else {
                try writer.add(id: ids[i], type: .chunk, encoding: c.encoding, depth: c.depth, rawLength: raw,
                               data: UnsafeRawBufferPointer(rebasing: out[starts[i]..<(starts[i] + c.length)]))
            }
        }
    }
}

