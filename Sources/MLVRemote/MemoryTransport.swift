// MemoryTransport — a remote held in memory (restic's backend/mem), for unit tests of push,
// fetch and remote checks without a disk remote or a server. Files are whole byte arrays;
// `failUploads`/`failDownloads` make chosen transfers fail, to test interrupted syncs.
import MLVSystem
import MLVStore
import Synchronization

public final class MemoryTransport: Transport {
    private let files = Mutex<[String: [UInt8]]>([:])
    private let uploadLog = Mutex<[String]>([])
    /// Uploads (downloads) of paths this returns true for throw, as a dropped link would.
    private let failing = Mutex<(upload: @Sendable (String) -> Bool, download: @Sendable (String) -> Bool)>(({ _ in false }, { _ in false }))
    public let location: String
    public var parallelism: Int { 2 }

    public init(location: String = "memory:") { self.location = location }

    /// Every file, by path (for tests to inspect or damage).
    public var contents: [String: [UInt8]] {
        get { files.withLock { $0 } }
        set { files.withLock { $0 = newValue } }
    }

    /// Paths uploaded, in the order their uploads completed.
    public var uploads: [String] { uploadLog.withLock { $0 } }

    public func failUploads(_ when: @escaping @Sendable (String) -> Bool) { failing.withLock { $0.upload = when } }
    public func failDownloads(_ when: @escaping @Sendable (String) -> Bool) { failing.withLock { $0.download = when } }

    public func prepare(forWriting: Bool) throws {}

    public func packFiles() throws -> [ObjectID: UInt64] {
        var out: [ObjectID: UInt64] = [:]
        for (rel, bytes) in contents { if let id = Layout.packID(rel: rel) { out[id] = UInt64(bytes.count) } }
        return out
    }

    public func indexFiles() throws -> [(name: String, size: UInt64)] {
        contents.compactMap { rel, bytes in Layout.indexName(rel: rel).map { (name: $0, size: UInt64(bytes.count)) } }
            .sorted { $0.name < $1.name }
    }

    public func download(_ rel: String, to local: String, limit: UInt64) throws -> UInt64 {
        if failing.withLock({ $0.download })(rel) { throw TransportError.unreachable(why: "download of \(rel) failed (test)") }
        guard let bytes = contents[rel] else { throw TransportError.damaged(path: describe(rel), why: "no such file") }
        guard UInt64(bytes.count) <= limit else { throw tooLarge(rel, size: UInt64(bytes.count), limit: limit) }
        try FS.atomicWrite(bytes, to: local)
        return UInt64(bytes.count)
    }

    public func upload(_ local: String, to rel: String) throws -> UInt64 {
        if failing.withLock({ $0.upload })(rel) { throw TransportError.unreachable(why: "upload of \(rel) failed (test)") }
        let bytes = try FS.readAll(local)
        files.withLock { $0[rel] = bytes }
        uploadLog.withLock { $0.append(rel) }
        return UInt64(bytes.count)
    }

    public func delete(_ rel: String) throws { _ = files.withLock { $0.removeValue(forKey: rel) } }
}
