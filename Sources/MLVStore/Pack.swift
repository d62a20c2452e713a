// Pack and index formats. All integers are little-endian. Documented in man/mlv-store.5;
// keep the two in step.
//
// Pack  packs/XX/<id>.pack, XX = the id's first two hex digits; id = SHA-256 of the pack
//       header followed by every entry header, in order (the data is covered through the
//       object ids in those headers, each checked on every read)
//   header   16 bytes: "MLVPACK\0" | u32 version (2; 1 is read too) | u32 reserved (0)
//   entries  repeated until end of file:
//            32 id | u8 type | u8 encoding | u16 delta depth | u32 raw length | u32 stored length
//            then `stored length` bytes of data
//
// Index  index/<id>.idx, id = SHA-256 of the whole file
//   header   "MLVIDX\0\0" | u32 version (2; 1 is read too) | u32 pack count | u32 entry count
//   packs    pack count x 32-byte pack id
//   entries  entry count x 56 bytes, sorted by object id:
//            32 id | u32 pack number | u64 offset of the entry header in the pack
//            | u32 stored length | u32 raw length | u8 type | u8 encoding | u16 delta depth
//
// Version 2 added encoding 2 (a delta against other chunks, Delta.swift) and the delta
// depth in what version 1 kept as a reserved 0: a version-1 file is a version-2 file with
// no deltas, so both are read alike. Writers write version 2.
import MLVSystem
import MLVZstd
import Synchronization

public enum ObjectType: UInt8, Sendable, CustomStringConvertible {
    case chunk = 1
    case file = 2
    case tree = 3

    public var description: String {
        switch self {
        case .chunk: return "chunk"
        case .file: return "file"
        case .tree: return "tree"
        }
    }
}

/// How an object's bytes are stored in its pack. New encodings get new tags; a reader
/// refuses a tag it does not know.
public enum Encoding: UInt8, Sendable {
    case raw = 0
    case zstd = 1
    /// Against base chunks, or transformed (`DeltaHeader`); chunks only.
    case delta = 2

    /// The one rule for choosing: zstd unless it saves less than 1/32 of the object, when the
    /// raw bytes are stored (reading them back costs nothing).
    public static func choose(rawLength: Int, compressedLength: Int) -> Encoding {
        compressedLength >= rawLength - rawLength / 32 ? .raw : .zstd
    }
}

public enum PackFormat {
    public static let packMagic: [UInt8] = Array("MLVPACK\0".utf8)
    public static let indexMagic: [UInt8] = Array("MLVIDX\0\0".utf8)
    /// The version written; every version up to it is read.
    public static let version: UInt32 = 2
    public static let readableVersions: ClosedRange<UInt32> = 1...2
    /// The longest delta chain a reader accepts (git's default is 50). Writers stay far
    /// below (`DeltaEncoder.chainLimit`); the margin lets a later writer choose otherwise
    /// without a format change.
    public static let maxDeltaDepth: UInt16 = 32
    /// The most a delta's bases may hold together (their concatenation is kept in memory
    /// while it is decoded).
    public static let maxDeltaBaseBytes = 1 << 20
    /// No delta decodes to more than this (a chunk is at most 256 KiB): what a reader
    /// allocates for one is bounded before it trusts a declared size.
    public static let maxDeltaObjectSize = 1 << 20
    public static let packHeaderSize = 16
    public static let entryHeaderSize = 44
    public static let indexEntrySize = 56
    /// A pack is closed once it holds this many stored bytes: big enough that a 1 GiB dataset
    /// is a dozen files, small enough that a remote transfer of one retries cheaply.
    public static let targetPackSize = 32 * 1024 * 1024
    /// No object may claim to be bigger than this (the largest is a manifest of a huge file).
    public static let maxObjectSize = 256 * 1024 * 1024
    /// No pack mlv writes is bigger: a pack is closed once it reaches `targetPackSize`, so it
    /// holds at most that plus one more object (stored raw when zstd does not help), with
    /// headers and 1 MiB to spare. A remote file claiming more is refused before a byte of
    /// it is copied (a sparse 1 TB file costs the remote nothing and would fill the disk).
    public static let maxPackSize = UInt64(packHeaderSize + targetPackSize + entryHeaderSize + maxObjectSize + (1 << 20))
}

/// Where an object lives.
public struct Location: Sendable, Equatable {
    public var pack: Int32           // index into the store's pack table
    public var offset: UInt64        // of the entry header
    public var storedLength: UInt32
    public var rawLength: UInt32
    public var type: ObjectType
    public var encoding: Encoding
    /// 0 unless a delta (`Delta.swift`, "Depth").
    public var depth: UInt16 = 0
}

/// One entry as written into a pack, before the pack has a name.
public struct PackedEntry: Sendable {
    public var id: ObjectID
    public var offset: UInt64
    public var storedLength: UInt32
    public var rawLength: UInt32
    public var type: ObjectType
    public var encoding: Encoding
    public var depth: UInt16 = 0
}

public enum StoreError: Error, CustomStringConvertible, Equatable {
    case unsupportedVersion(path: String, found: UInt32)
    case corruptIndex(path: String, why: String)
    case corruptPack(path: String, offset: UInt64, why: String)
    case missingObject(ObjectID, type: ObjectType)
    case missingPack(path: String)
    case lockBusy(path: String, holder: String)
    case objectTooLarge(id: ObjectID, type: ObjectType, size: Int)
    /// A delta whose base chunk the store lacks.
    case missingBase(delta: ObjectID, base: ObjectID)

    public var description: String {
        switch self {
        case .unsupportedVersion(let path, let found):
            return "\(path): store format version \(found) is newer than this mlv understands (\(PackFormat.version)); upgrade mlv"
        case .corruptIndex(let path, let why):
            return "\(path): corrupt index: \(why); the store is damaged: restore .mlv/store from a backup or another clone"
        case .corruptPack(let path, let offset, let why):
            return "\(path): corrupt pack at byte \(offset): \(why); the store is damaged: restore this pack from a backup or another clone"
        case .missingObject(let id, let type):
            // The command that fetches it is the caller's to add (MLVCore's userMessage).
            return "\(type) \(id.short) is not in the local store"
        case .missingPack(let path):
            return "\(path): pack file is missing; restore it from a backup or another clone"
        case .lockBusy(let path, let holder):
            return "\(path): the store is locked by \(holder); wait for it to finish"
        case .objectTooLarge(let id, let type, let size):
            return "\(type) \(id.short) would be \(size) bytes, over the store's 256 MiB object limit (a folder with millions of entries, or a file of hundreds of GiB); split it into several targets"
        case .missingBase(let delta, let base):
            return "chunk \(delta.short) is stored as a delta against chunk \(base.short), which is not in the local store; restore the pack holding it from a backup or another clone (mlv fsck lists what is affected)"
        }
    }
}

/// Encodes an index file for the given packs.
public func encodeIndex(packs: [(ObjectID, [PackedEntry])]) -> [UInt8] {
    var sorted: [(ObjectID, UInt32, PackedEntry)] = []
    for (n, (_, entries)) in packs.enumerated() {
        for e in entries { sorted.append((e.id, UInt32(n), e)) }
    }
    sorted.sort { $0.0 < $1.0 }
    var out = PackFormat.indexMagic
    out.reserveCapacity(20 + packs.count * 32 + sorted.count * PackFormat.indexEntrySize)
    out.appendLE(PackFormat.version)
    out.appendLE(UInt32(packs.count))
    out.appendLE(UInt32(sorted.count))
    for (id, _) in packs { out.append(contentsOf: id.bytes) }
    for (id, n, e) in sorted {
        out.append(contentsOf: id.bytes)
        out.appendLE(n)
        out.appendLE(e.offset)
        out.appendLE(e.storedLength)
        out.appendLE(e.rawLength)
        out.append(e.type.rawValue)
        out.append(e.encoding.rawValue)
        out.appendLE(e.depth)
    }
    return out
}

/// A decoded index file: pack ids and entries referring to them by position.
public struct DecodedIndex {
    public var packs: [ObjectID]
    public var entries: [(ObjectID, Int, PackedEntry)]
}

/// The header of an index file: its pack and entry counts, checked against the file's size.
func decodeIndexHeader(_ bytes: [UInt8], path: String) throws -> (packCount: Int, entryCount: Int) {
    var r = ByteReader(bytes)
    func bad(_ why: String) -> StoreError { .corruptIndex(path: path, why: why) }
    guard let magic = r.readBytes(8), Array(magic) == PackFormat.indexMagic else { throw bad("bad magic") }
    guard let version = r.read(UInt32.self) else { throw bad("truncated header") }
    guard PackFormat.readableVersions.contains(version) else { throw StoreError.unsupportedVersion(path: path, found: version) }
    guard let packCount = r.read(UInt32.self), let entryCount = r.read(UInt32.self) else { throw bad("truncated header") }
    let expected = indexEntriesStart(packCount: Int(packCount)) + Int(entryCount) * PackFormat.indexEntrySize
    guard bytes.count == expected else { throw bad("size \(bytes.count), header says \(expected)") }
    return (Int(packCount), Int(entryCount))
}

/// Where an index's entries start: after the 20-byte header and the pack ids.
func indexEntriesStart(packCount: Int) -> Int { 20 + packCount * 32 }

/// The `n`th pack id of an index whose header `decodeIndexHeader` accepted.
func indexPack(_ bytes: [UInt8], _ n: Int) -> ObjectID {
    bytes.withUnsafeBytes { ObjectID(bytes: $0.baseAddress! + 20 + n * 32) }
}

/// The object id of entry `i` (for binary search), of an index `decodeIndexHeader` accepted.
func indexEntryID(_ bytes: [UInt8], _ i: Int, packCount: Int) -> ObjectID {
    bytes.withUnsafeBytes { ObjectID(bytes: $0.baseAddress! + indexEntriesStart(packCount: packCount) + i * PackFormat.indexEntrySize) }
}

/// Entry `i` of an index `decodeIndexHeader` accepted: (object, pack number, entry), every
/// field checked. The one decoder of entries: `decodeIndex` and the store's binary search.
func decodeIndexEntry(_ bytes: [UInt8], _ i: Int, packCount: Int, path: String) throws -> (ObjectID, Int, PackedEntry) {
    var r = ByteReader(bytes)
    r.offset = indexEntriesStart(packCount: packCount) + i * PackFormat.indexEntrySize
    return try decodeIndexEntry(&r, packCount: packCount, path: path)
}

/// The entry at `r`'s offset (one reader for a whole index: no copy per entry).
func decodeIndexEntry(_ r: inout ByteReader, packCount: Int, path: String) throws -> (ObjectID, Int, PackedEntry) {
    func bad(_ why: String) -> StoreError { .corruptIndex(path: path, why: why) }
    let i = (r.offset - indexEntriesStart(packCount: packCount)) / PackFormat.indexEntrySize
    guard let id = r.readID(), let n32 = r.read(UInt32.self), let offset = r.read(UInt64.self),
          let stored = r.read(UInt32.self), let raw = r.read(UInt32.self), let t = r.read(UInt8.self),
          let enc = r.read(UInt8.self), let depth = r.read(UInt16.self) else { throw bad("truncated entry \(i)") }
    let n = Int(n32)
    guard n < packCount else { throw bad("entry \(id.short) names pack \(n) of \(packCount)") }
    guard let type = ObjectType(rawValue: t) else { throw bad("entry \(id.short) has unknown type \(t)") }
    guard let encoding = Encoding(rawValue: enc) else { throw bad("entry \(id.short) has unknown encoding \(enc)") }
    guard raw <= PackFormat.maxObjectSize, stored <= PackFormat.maxObjectSize else { throw bad("entry \(id.short) is too large") }
    guard offset <= UInt64(Int64.max) - (1 << 32) else { throw bad("entry \(id.short) has an impossible offset") }
    if let why = deltaFieldsProblem(type: type, encoding: encoding, depth: depth, rawLength: raw) { throw bad("entry \(id.short): \(why)") }
    return (id, n, PackedEntry(id: id, offset: offset, storedLength: stored, rawLength: raw, type: type, encoding: encoding, depth: depth))
}

/// Decodes an index file; throws on any inconsistency, never traps.
public func decodeIndex(_ bytes: [UInt8], path: String) throws -> DecodedIndex {
    let (packCount, entryCount) = try decodeIndexHeader(bytes, path: path)
    let packs = (0..<packCount).map { indexPack(bytes, $0) }
    var entries: [(ObjectID, Int, PackedEntry)] = []
    entries.reserveCapacity(entryCount)
    var previous: ObjectID? = nil
    var r = ByteReader(bytes)
    r.offset = indexEntriesStart(packCount: packCount)
    for _ in 0..<entryCount {
        let entry = try decodeIndexEntry(&r, packCount: packCount, path: path)
        if let p = previous, !(p < entry.0) {
            throw StoreError.corruptIndex(path: path, why: "entries not sorted or duplicated at \(entry.0.short)")
        }
        previous = entry.0
        entries.append(entry)
    }
    return DecodedIndex(packs: packs, entries: entries)
}

/// Reads the entry headers of a whole pack, for `fsck --repair` and verification.
public func scanPack(_ f: FileHandleFD) throws -> [PackedEntry] {
    let size = UInt64(try f.stat().st_size)
    var header = [UInt8](repeating: 0, count: PackFormat.packHeaderSize)
    _ = try header.withUnsafeMutableBytes { try f.pread(into: $0, at: 0) }
    var r = ByteReader(header)
    guard let magic = r.readBytes(8), Array(magic) == PackFormat.packMagic else {
        throw StoreError.corruptPack(path: f.path, offset: 0, why: "bad magic")
    }
    let version = r.read(UInt32.self)!
    guard PackFormat.readableVersions.contains(version) else { throw StoreError.unsupportedVersion(path: f.path, found: version) }
    var out: [PackedEntry] = []
    var offset = UInt64(PackFormat.packHeaderSize)
    var eh = [UInt8](repeating: 0, count: PackFormat.entryHeaderSize)
    while offset < size {
        let n = try eh.withUnsafeMutableBytes { try f.pread(into: $0, at: offset) }
        guard n == PackFormat.entryHeaderSize else {
            throw StoreError.corruptPack(path: f.path, offset: offset, why: "truncated entry header")
        }
        let e = try decodeEntryHeader(eh, path: f.path, offset: offset)
        guard offset + UInt64(PackFormat.entryHeaderSize) + UInt64(e.storedLength) <= size else {
            throw StoreError.corruptPack(path: f.path, offset: offset, why: "entry runs past the end of the pack")
        }
        out.append(e)
        offset += UInt64(PackFormat.entryHeaderSize) + UInt64(e.storedLength)
    }
    return out
}

/// Recomputes a pack's id from its header and entry headers (what its name must be).
public func computePackID(_ f: FileHandleFD) throws -> ObjectID {
    let h = SHA256Stream()
    var header = [UInt8](repeating: 0, count: PackFormat.packHeaderSize)
    _ = try header.withUnsafeMutableBytes { try f.pread(into: $0, at: 0) }
    h.update(header)
    var eh = [UInt8](repeating: 0, count: PackFormat.entryHeaderSize)
    for e in try scanPack(f) {
        _ = try eh.withUnsafeMutableBytes { try f.pread(into: $0, at: e.offset) }
        h.update(eh)
    }
    return h.finish()
}

func decodeEntryHeader(_ eh: [UInt8], path: String, offset: UInt64) throws -> PackedEntry {
    var r = ByteReader(eh)
    guard let id = r.readID(), let t = r.read(UInt8.self), let enc = r.read(UInt8.self),
          let depth = r.read(UInt16.self), let raw = r.read(UInt32.self), let stored = r.read(UInt32.self) else {
        throw StoreError.corruptPack(path: path, offset: offset, why: "truncated entry header")
    }
    guard let type = ObjectType(rawValue: t) else {
        throw StoreError.corruptPack(path: path, offset: offset, why: "unknown object type \(t)")
    }
    guard let encoding = Encoding(rawValue: enc) else {
        throw StoreError.corruptPack(path: path, offset: offset, why: "unknown encoding \(enc)")
    }
    guard raw <= PackFormat.maxObjectSize, stored <= PackFormat.maxObjectSize else {
        throw StoreError.corruptPack(path: path, offset: offset, why: "object length out of range")
    }
    if let why = deltaFieldsProblem(type: type, encoding: encoding, depth: depth, rawLength: raw) {
        throw StoreError.corruptPack(path: path, offset: offset, why: "object \(id.short): \(why)")
    }
    return PackedEntry(id: id, offset: offset, storedLength: stored, rawLength: raw, type: type, encoding: encoding, depth: depth)
}

/// The rules an entry's delta fields follow (entry header and index alike): only chunks are
/// deltas, a delta's depth is 1...`maxDeltaDepth` and its size bounded, anything else has
/// depth 0.
func deltaFieldsProblem(type: ObjectType, encoding: Encoding, depth: UInt16, rawLength: UInt32) -> String? {
    guard encoding == .delta else { return depth == 0 ? nil : "a depth of \(depth) on an object that is not a delta" }
    guard type == .chunk else { return "a \(type) stored as a delta (only chunks are)" }
    guard rawLength <= PackFormat.maxDeltaObjectSize else { return "a delta of \(rawLength) bytes (at most \(PackFormat.maxDeltaObjectSize))" }
    // Depth 0 is a delta with no base (byte planes); a base is always shallower.
    guard depth <= PackFormat.maxDeltaDepth else { return "delta depth \(depth) (at most \(PackFormat.maxDeltaDepth))" }
    return nil
}

/// Appends entries to a temporary pack file and names it by its hash when closed.
final class PackWriter {
    let tmpPath: String
    let file: FileHandleFD
    let hasher = SHA256Stream()
    private(set) var size: UInt64 = 0
    private(set) var entries: [PackedEntry] = []

    init(tmpDir: String) throws {
        tmpPath = FS.join(tmpDir, FS.scratchName(Store.TempKind.pack.rawValue))
        file = try FileHandleFD.create(tmpPath)
        var header = PackFormat.packMagic
        header.appendLE(PackFormat.version)
        header.appendLE(UInt32(0))
        try append(header)
    }

    private func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    private func append(_ buf: UnsafeRawBufferPointer, hashed: Bool = true) throws {
        try file.write(buf)
        if hashed { hasher.update(buf) }
        size += UInt64(buf.count)
    }

    func add(id: ObjectID, type: ObjectType, encoding: Encoding, depth: UInt16, rawLength: Int, data: UnsafeRawBufferPointer) throws {
        var h = id.bytes
        h.append(type.rawValue)
        h.append(encoding.rawValue)
        h.appendLE(depth)
        h.appendLE(UInt32(rawLength))
        h.appendLE(UInt32(data.count))
        let offset = size
        try append(h)
        try append(data, hashed: false)
        entries.append(PackedEntry(id: id, offset: offset, storedLength: UInt32(data.count),
                                   rawLength: UInt32(rawLength), type: type, encoding: encoding, depth: depth))
    }

    /// Closes the pack for appending and starts its write-back without waiting for it, so
    /// compression goes on while the disk works. Returns the pack id; `publish` makes it durable.
    func close() -> ObjectID {
        FS.startWriteback(of: file)
        return hasher.finish()
    }

    /// fsync, then rename into place (`Store.placePack`).
    func publish(id: ObjectID, store: Store) throws {
        try file.sync()
        try store.placePack(tmpPath, id: id)
    }

    func abandon() { FS.remove(tmpPath) }
}


extension StoreError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .lockBusy: return .system
        case .objectTooLarge: return .input
        case .unsupportedVersion, .corruptIndex, .corruptPack, .missingObject, .missingPack, .missingBase: return .integrity
        }
    }
}
