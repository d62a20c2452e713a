// Transport — what a remote must do to hold a store (restic's backend interface): list its
// packs and indexes, copy a file to a local path, store a local file atomically, delete one.
// A remote holds the `Layout` of a local store minus anything mutable (no VERSION, no lock),
// and every file is written once under its final name, never changed: two clones pushing at
// once can only write identical bytes under the same name. Implementations: MLVRemote's
// directory, S3 and in-memory transports. What is copied, and in which order, is `Sync`'s.
import MLVSystem
import Glibc

public protocol Transport: Sendable {
    /// A path or a URL, for messages.
    var location: String { get }
    /// Transfers worth running at once: a disk wants few, object storage many.
    var parallelism: Int { get }
    /// Fails (`TransportError`) when the remote cannot be used; for writing, a directory
    /// remote's folders are created.
    func prepare(forWriting: Bool) throws
    /// Pack files present, with their sizes (only names `Layout.packID(rel:)` accepts).
    func packFiles() throws -> [ObjectID: UInt64]
    /// Index files present (names under index/), with their sizes, sorted by name.
    func indexFiles() throws -> [(name: String, size: UInt64)]
    /// Copies `rel` into the new local file `local` and fsyncs it. Returns its size. A file
    /// over `limit` bytes is refused (`TransportError.damaged`) before it is copied.
    func download(_ rel: String, to local: String, limit: UInt64) throws -> UInt64
    /// Stores a local file as `rel`, atomically. Returns the bytes sent.
    func upload(_ local: String, to rel: String) throws -> UInt64
    /// Removes `rel` (nothing when it is absent).
    func delete(_ rel: String) throws
    /// Runs `body` on an open local copy of `rel` (a directory remote's own file; a download
    /// into `tmpDir` for others, removed afterwards).
    func withLocalCopy<T>(_ rel: String, tmpDir: String, limit: UInt64, _ body: (FileHandleFD) throws -> T) throws -> T
}

/// A remote that cannot be used, or holds what mlv never wrote. The caller names the remote
/// and adds the fix (MLVCore's RemoteError).
public enum TransportError: Error, CustomStringConvertible, Equatable {
    /// The remote does not answer, or refuses; `why` says how.
    case unreachable(why: String)
    /// A directory remote's root folder is missing (an unmounted share, a typo).
    case missingRoot(path: String)
    /// A file that is not what mlv wrote there (wrong content, kind of file, impossible size).
    case damaged(path: String, why: String)

    public var description: String {
        switch self {
        case .unreachable(let why): return why
        case .missingRoot(let path): return "\(path) does not exist"
        case .damaged(let path, let why): return "\(path): \(why)"
        }
    }
}

extension TransportError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .unreachable, .missingRoot: return .input
        case .damaged: return .integrity
        }
    }
}

extension Transport {
    /// `rel` named on the remote, for messages.
    public func describe(_ rel: String) -> String { "\(location)/\(rel)" }

    public func withLocalCopy<T>(_ rel: String, tmpDir: String, limit: UInt64, _ body: (FileHandleFD) throws -> T) throws -> T {
        let tmp = FS.join(tmpDir, FS.scratchName(Store.TempKind.remote.rawValue, suffix: "-" + FS.basename(rel)))
        defer { FS.remove(tmp) }
        _ = try download(rel, to: tmp, limit: limit)
        return try body(try FileHandleFD.openRead(tmp))
    }

    /// The refusal of a remote file over `limit` bytes.
    public func tooLarge(_ rel: String, size: UInt64, limit: UInt64) -> TransportError {
        .damaged(path: describe(rel), why: "\(size) bytes, more than any file mlv writes there (\(limit))")
    }

    /// The error to report for a file of this remote whose check (of a local copy) threw
    /// `e`: named on the remote, and a damaged remote rather than a damaged local store.
    public func named(_ e: StoreError, _ rel: String) -> any Error {
        switch e {
        case .corruptPack(_, let offset, let why):
            return TransportError.damaged(path: describe(rel), why: "corrupt pack at byte \(offset): \(why)")
        case .corruptIndex(_, let why):
            return TransportError.damaged(path: describe(rel), why: "corrupt index: \(why)")
        case .unsupportedVersion(_, let found):
            return StoreError.unsupportedVersion(path: describe(rel), found: found)
        case .missingBase(let delta, let base):
            return TransportError.damaged(path: describe(rel), why: "delta chunk \(delta.short) needs chunk \(base.short), which the remote does not hold")
        default:
            return e
        }
    }
}

/// The whole content of an open file of at most `limit` bytes (checked first).
public func readWhole(_ f: FileHandleFD, limit: UInt64) throws -> [UInt8] {
    let size = UInt64(try f.stat().st_size)
    guard size <= limit else { throw IOError("read (\(size) bytes, over the \(limit)-byte limit)", f.path, code: EFBIG) }
    var out = [UInt8](repeating: 0, count: Int(size))
    let n = try out.withUnsafeMutableBytes { try f.pread(into: $0, at: 0) }
    if n < out.count { out.removeLast(out.count - n) }
    return out
}
