// Layout — the one place that spells where a store's files live, for the local store
// (.mlv/store) and for every remote alike (restic's layout_default.go):
//
//   VERSION                               "mlv-store 2\n" (local stores only; "mlv-store 1\n" is read too)
//   packs/<first 2 hex>/<pack id>.pack    immutable; named by the hash of their headers
//   index/<sha256 of the file>.idx        immutable; lists objects of packs already present
//   tmp/                                  partial writes, renamed into place when whole
//   lost/                                 packs `repairIndex` found damaged (local only)
//
// Paths here are relative ("rel") to a store's root, '/'-separated, as transports name them.
import MLVSystem

public enum Layout {
    public static let versionFile = "VERSION"
    public static let packsDir = "packs"
    public static let indexDir = "index"
    public static let tmpDir = "tmp"
    public static let lostDir = "lost"
    static let packSuffix = ".pack"
    static let indexSuffix = ".idx"

    /// The folders a writable store (or remote) holds.
    public static let folders = [packsDir, indexDir, tmpDir]

    /// "XX": the folder below packs/ holding a pack, its id's first two hex digits.
    public static func packFolder(_ id: ObjectID) -> String { String(id.hex.prefix(2)) }
    /// "<id>.pack".
    public static func packFileName(_ id: ObjectID) -> String { id.hex + packSuffix }
    /// "packs/XX/<id>.pack".
    public static func packRel(_ id: ObjectID) -> String { "\(packsDir)/\(packFolder(id))/\(packFileName(id))" }
    /// "index/<name>".
    public static func indexRel(_ name: String) -> String { "\(indexDir)/\(name)" }
    /// An index file's name: the SHA-256 of its bytes. Files are immutable, so a name that
    /// does not match its content means damage.
    public static func indexFileName(_ bytes: [UInt8]) -> String { ObjectID.hash(bytes).hex + indexSuffix }

    /// True for a name ending in `.idx` (what listings of index/ take; content is checked
    /// against the name when read).
    public static func isIndexFileName(_ name: String) -> Bool { name.hasSuffix(indexSuffix) }
    /// True for a name ending in `.pack` (what listings of a pack folder take).
    public static func isPackFileName(_ name: String) -> Bool { name.hasSuffix(packSuffix) }

    /// The pack a file name "<64 hex>.pack" names, or nil.
    public static func packID(fileName: String) -> ObjectID? {
        guard isPackFileName(fileName) else { return nil }
        return ObjectID(hex: fileName.dropLast(packSuffix.count))
    }

    /// The pack a path "packs/XX/<id>.pack" names, or nil for anything else (another folder,
    /// a prefix folder that does not match the id, a name that is not an id).
    public static func packID(rel: String) -> ObjectID? {
        let parts = rel.split(separator: "/", omittingEmptySubsequences: false)
        // Exactly the spelling `packRel` gives (lowercase hex, the matching folder).
        guard parts.count == 3, parts[0] == packsDir, let id = packID(fileName: String(parts[2])),
              rel == packRel(id) else { return nil }
        return id
    }

    /// The index name "index/<name>.idx" holds, or nil.
    public static func indexName(rel: String) -> String? {
        let parts = rel.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == indexDir, isIndexFileName(String(parts[1])) else { return nil }
        return String(parts[1])
    }

    /// Temporary upload names on a remote's tmp/: `<64 hex>.pack|idx.<pid>.<random>`.
    public static func uploadTempName(for rel: String, pid: Int32) -> String {
        "\(tmpDir)/\(FS.basename(rel)).\(pid).\(UInt32.random(in: 0...UInt32.max))"
    }

    /// True for a name `uploadTempName` gives (and nothing else a remote's tmp/ may hold).
    public static func isUploadTempName(_ n: String) -> Bool {
        let p = n.split(separator: ".", omittingEmptySubsequences: false)
        return p.count == 4 && ObjectID(hex: p[0]) != nil && ("." + p[1] == packSuffix || "." + p[1] == indexSuffix)
            && UInt64(p[2]) != nil && UInt64(p[3]) != nil
    }
}

/// An index file's name (kept as a free function: tests and tools call it).
public func indexFileName(_ bytes: [UInt8]) -> String { Layout.indexFileName(bytes) }
