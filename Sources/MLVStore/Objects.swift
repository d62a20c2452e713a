import MLVSystem
import Glibc
// File manifests and trees: the Merkle layer above chunks. Canonical encodings (one byte
// sequence per value) so equal content always has the same id. Little-endian; documented in
// man/mlv-store.5.
//
// File manifest  "MLVFILE\0" | u32 version (1) | u32 chunk count | u64 file size
//                chunk count x (32 chunk id | u32 length)
// Tree           "MLVTREE\0" | u32 version (1) | u32 entry count
//                entries sorted by name bytes, names unique:
//                u8 kind | u8 flags | u16 name length | name (UTF-8) | u64 size | u64 files | 32 id
//   kind 1 file (id = file manifest), 2 directory (id = tree), 3 symlink (id = chunk holding
//   the link target); flags bit 0 = executable; size = bytes below the entry; files = regular
//   files below it (1 for a file). Limits (names, nesting, totals): TreeWalk.swift.

public struct ManifestChunk: Sendable, Equatable {
    public var id: ObjectID
    public var length: UInt32
    public init(id: ObjectID, length: UInt32) {
        self.id = id
        self.length = length
    }
}

public struct FileManifest: Sendable, Equatable {
    public var size: UInt64
    public var chunks: [ManifestChunk]

    static let magic: [UInt8] = Array("MLVFILE\0".utf8)

    public init(size: UInt64, chunks: [ManifestChunk]) {
        self.size = size
        self.chunks = chunks
    }

    public func encoded() -> [UInt8] {
        var out = FileManifest.magic
        out.reserveCapacity(24 + chunks.count * 36)
        out.appendLE(UInt32(1))
        out.appendLE(UInt32(chunks.count))
        out.appendLE(size)
        for c in chunks {
            out.append(contentsOf: c.id.bytes)
            out.appendLE(c.length)
        }
        return out
    }

    public init(decoding bytes: [UInt8], id: ObjectID) throws {
        var r = ByteReader(bytes)
        func bad(_ why: String) -> ObjectError { .corrupt(id: id, type: .file, why: why) }
        guard let m = r.readBytes(8), Array(m) == FileManifest.magic else { throw bad("bad magic") }
        guard let version = r.read(UInt32.self), let count = r.read(UInt32.self), let size = r.read(UInt64.self) else {
            throw bad("truncated header")
        }
        guard version == 1 else { throw bad("unknown version \(version)") }
        guard r.remaining == Int(count) * 36 else { throw bad("length does not match its chunk count") }
        var chunks: [ManifestChunk] = []
        chunks.reserveCapacity(Int(count))
        var total: UInt64 = 0
        for _ in 0..<count {
            let cid = r.readID()!
            let len = r.read(UInt32.self)!
            guard len > 0 else { throw bad("empty chunk") }
            total += UInt64(len)
            chunks.append(ManifestChunk(id: cid, length: len))
        }
        guard total == size else { throw bad("chunks add up to \(total) bytes, header says \(size)") }
        self.size = size
        self.chunks = chunks
    }
}

public enum EntryKind: UInt8, Sendable {
    case file = 1
    case directory = 2
    case symlink = 3
}

public struct TreeEntry: Sendable, Equatable {
    public var name: String
    public var kind: EntryKind
    public var executable: Bool
    public var size: UInt64
    public var files: UInt64
    public var id: ObjectID

    public init(name: String, kind: EntryKind, executable: Bool = false, size: UInt64, files: UInt64, id: ObjectID) {
        self.name = name
        self.kind = kind
        self.executable = executable
        self.size = size
        self.files = files
        self.id = id
    }
}

public enum ObjectError: Error, CustomStringConvertible, Equatable {
    case corrupt(id: ObjectID, type: ObjectType, why: String)
    case badName(String, why: String)
    /// A snapshot whose trees are well-formed one by one but not as a whole: totals that do
    /// not add up, nesting or size past the format's limits (man/mlv-store.5, LIMITS).
    case badSnapshot(target: String, why: String)

    public var description: String {
        switch self {
        case .corrupt(let id, let type, let why):
            return "\(type) \(id.short) is malformed: \(why)"
        case .badName(let name, let why):
            return "refusing file name \(name.debugDescription): \(why)"
        case .badSnapshot(let target, let why):
            // What to check and run next is the caller's to add (MLVCore's userMessage).
            return "\(target): refusing its snapshot: \(why); the data was written by a faulty or hostile tool"
        }
    }
}

/// A name that may appear in a tree: one path component, no separators, no NUL or newline.
/// Checked when writing (so nothing unsafe is committed) and when reading (so a hostile tree
/// cannot make checkout write outside its target).
public func validateName(_ name: String) throws {
    if name.isEmpty { throw ObjectError.badName(name, why: "empty name") }
    if name == "." || name == ".." { throw ObjectError.badName(name, why: "a relative path component") }
    for u in name.utf8 where u == UInt8(ascii: "/") || u == 0 || u == UInt8(ascii: "\n") || u == UInt8(ascii: "\r") {
        throw ObjectError.badName(name, why: "contains '/', NUL, or a line break")
    }
    // Control characters (but tab): a name holding ESC or BEL would drive the terminal of
    // whoever runs `mlv ls` or `mlv diff` (set its title, clear it, rewrite lines).
    for ch in name.unicodeScalars where (ch.value < 0x20 && ch.value != 0x09) || (0x7F...0x9F).contains(ch.value) {
        throw ObjectError.badName(name, why: "contains the control character U+\(String(ch.value, radix: 16, uppercase: true))")
    }
    // NAME_MAX: no Linux file system holds a longer name, so no real folder has one.
    if name.utf8.count > TreeLimits.maxNameBytes {
        throw ObjectError.badName(name, why: "longer than \(TreeLimits.maxNameBytes) bytes")
    }
    // A .git folder inside data would let checkout plant a repository (with hooks and
    // config) in the working tree; git refuses such names in trees for the same reason.
    if name.lowercased() == ".git" { throw ObjectError.badName(name, why: "a .git folder cannot be part of tracked data") }
}

public struct Tree: Sendable, Equatable {
    public var entries: [TreeEntry]

    static let magic: [UInt8] = Array("MLVTREE\0".utf8)

    /// Sorts entries by the bytes of their names (the canonical order).
    public init(entries: [TreeEntry]) {
        // Byte order of the UTF-8 names (not String's Unicode order). Callers usually pass
        // entries already in order (FS.listSorted), which costs one pass to confirm.
        var sorted = true
        for i in entries.indices.dropFirst() where !utf8Precedes(entries[i - 1].name, entries[i].name) {
            sorted = false
            break
        }
        self.entries = sorted ? entries : entries.sorted { utf8Precedes($0.name, $1.name) }
    }

    public var size: UInt64 { entries.reduce(0) { $0 + $1.size } }
    public var files: UInt64 { entries.reduce(0) { $0 + $1.files } }

    public func encoded() -> [UInt8] {
        var out = Tree.magic
        out.appendLE(UInt32(1))
        out.appendLE(UInt32(entries.count))
        for e in entries {
            let name = Array(e.name.utf8)
            out.append(e.kind.rawValue)
            out.append(e.executable ? 1 : 0)
            out.appendLE(UInt16(name.count))
            out.append(contentsOf: name)
            out.appendLE(e.size)
            out.appendLE(e.files)
            out.append(contentsOf: e.id.bytes)
        }
        return out
    }

    public init(decoding bytes: [UInt8], id: ObjectID) throws {
        var r = ByteReader(bytes)
        func bad(_ why: String) -> ObjectError { .corrupt(id: id, type: .tree, why: why) }
        guard let m = r.readBytes(8), Array(m) == Tree.magic else { throw bad("bad magic") }
        guard let version = r.read(UInt32.self), let count = r.read(UInt32.self) else { throw bad("truncated header") }
        guard version == 1 else { throw bad("unknown version \(version)") }
        var entries: [TreeEntry] = []
        var previous: [UInt8]? = nil
        for _ in 0..<count {
            guard let k = r.read(UInt8.self), let flags = r.read(UInt8.self), let nameLen = r.read(UInt16.self),
                  let nameBytes = r.readBytes(Int(nameLen)), let size = r.read(UInt64.self),
                  let files = r.read(UInt64.self), let eid = r.readID() else { throw bad("truncated entry") }
            guard let kind = EntryKind(rawValue: k) else { throw bad("unknown entry kind \(k)") }
            // Counts of one entry: a file is one file; a link is none and holds a target of
            // 1 to 4096 bytes (Linux has no empty link, and readlink's limit is PATH_MAX).
            // Folders' counts are checked against their trees by whoever walks them.
            switch kind {
            case .file: guard files == 1 else { throw bad("file entry counts \(files) files, not 1") }
            case .symlink:
                guard files == 0, size >= 1, size <= UInt64(TreeLimits.maxLinkBytes) else {
                    throw bad("symlink entry with \(files) files and a \(size)-byte target")
                }
            case .directory: break
            }
            guard let name = String(validating: nameBytes, as: UTF8.self) else { throw bad("name is not UTF-8") }
            do { try validateName(name) } catch { throw bad("\(error)") }
            let nb = Array(nameBytes)
            if let p = previous, !p.lexicographicallyPrecedes(nb) { throw bad("entries unsorted or duplicated at \(name.debugDescription)") }
            previous = nb
            entries.append(TreeEntry(name: name, kind: kind, executable: flags & 1 != 0, size: size, files: files, id: eid))
        }
        guard r.remaining == 0 else { throw bad("trailing bytes") }
        self.entries = entries
    }
}

public extension Store {
    func manifest(_ id: ObjectID) throws -> FileManifest {
        try FileManifest(decoding: readObject(id, type: .file), id: id)
    }

    func tree(_ id: ObjectID) throws -> Tree {
        try Tree(decoding: readObject(id, type: .tree), id: id)
    }
}

extension ObjectError: CategorizedError {
    public var category: ErrorCategory { .integrity }
}
