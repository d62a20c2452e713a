// DirectoryTransport — a remote that is a folder (a local path, a shared disk, NFS). Anyone
// with write access to it can put anything there (symlinks, FIFOs, huge files), so its files
// are opened in one place (`open`), as regular files only, and listings skip everything else.
import MLVSystem
import Glibc
import MLVStore

public struct DirectoryTransport: Transport {
    /// An absolute path (the caller checks).
    public let root: String
    public var location: String { root }
    public var parallelism: Int { 4 }

    public init(root: String) { self.root = root }

    public func prepare(forWriting: Bool) throws {
        guard forWriting else {
            guard FS.isDirectory(root) else { throw TransportError.missingRoot(path: root) }
            return
        }
        for d in Layout.folders {
            try checkRealFolder(d)
            do { try FS.makeDirectories(FS.join(root, d)) } catch {
                throw TransportError.unreachable(why: "cannot create \(root)/\(d) (\(error))")
            }
        }
        removeStaleUploads()
    }

    /// Pushes write only into real folders of the remote: a `index` or `packs/XX` that is a
    /// link (planted by whoever else can write the remote) would carry the files elsewhere.
    private func checkRealFolder(_ rel: String) throws {
        if let st = FS.lstat(FS.join(root, rel)), st.st_mode & S_IFMT != S_IFDIR {
            throw TransportError.damaged(path: FS.join(root, rel), why: "not a real folder (\(st.st_mode & S_IFMT == S_IFLNK ? "a symlink" : "a file")); mlv writes only into folders it can vouch for")
        }
    }

    /// Partial files of interrupted pushes are removed once an hour old (a push still running,
    /// from this machine or another, writes younger files). Only what mlv itself names there
    /// (`Layout.isUploadTempName`), only regular files, and only in a real tmp folder: a
    /// symlinked tmp or entry is never followed, so nothing outside the remote is ever deleted.
    public func removeStaleUploads() {
        let tmp = FS.join(root, Layout.tmpDir)
        guard let st = FS.lstat(tmp), st.st_mode & S_IFMT == S_IFDIR else { return }
        for n in (try? FS.list(tmp)) ?? [] where Layout.isUploadTempName(n) {
            let path = FS.join(tmp, n)
            if let e = FS.lstat(path), e.st_mode & S_IFMT == S_IFREG, isStale(e) { FS.remove(path) }
        }
    }

    /// The one place a file of this remote is opened for reading: a regular file only, never
    /// through a symlink (`O_NOFOLLOW`), and without blocking on a FIFO or device
    /// (`O_NONBLOCK` for the open, cleared once fstat shows a regular file); at most `limit`
    /// bytes.
    func open(_ rel: String, limit: UInt64) throws -> FileHandleFD {
        let f: FileHandleFD
        do { f = try FileHandleFD.openRead(FS.join(root, rel), regularOnly: true, followLinks: false) } catch let e as IOError where e.isNotRegularFile {
            throw TransportError.damaged(path: describe(rel), why: "not a regular file (a symlink, FIFO, device or folder mlv never writes)")
        }
        let st = try f.stat()
        guard UInt64(st.st_size) <= limit else { throw tooLarge(rel, size: UInt64(st.st_size), limit: limit) }
        return f
    }

    /// Regular files in `dir` whose names `accept` takes (nothing else mlv would have written).
    private func regularFiles(in dir: String, _ accept: (String) -> Bool) throws -> [(String, UInt64)] {
        try FS.list(dir).compactMap { n in
            guard accept(n), let st = FS.lstat(FS.join(dir, n)), st.st_mode & S_IFMT == S_IFREG else { return nil }
            return (n, UInt64(st.st_size))
        }
    }

    public func packFiles() throws -> [ObjectID: UInt64] {
        var out: [ObjectID: UInt64] = [:]
        let dir = FS.join(root, Layout.packsDir)
        guard FS.isDirectory(dir) else { return [:] }
        for sub in try FS.list(dir) {
            guard let st = FS.lstat(FS.join(dir, sub)), st.st_mode & S_IFMT == S_IFDIR else { continue }
            for (f, size) in try regularFiles(in: FS.join(dir, sub), Layout.isPackFileName) {
                if let id = Layout.packID(rel: "\(Layout.packsDir)/\(sub)/\(f)") { out[id] = size }
            }
        }
        return out
    }

    public func indexFiles() throws -> [(name: String, size: UInt64)] {
        let dir = FS.join(root, Layout.indexDir)
        guard FS.isDirectory(dir) else { return [] }
        return try regularFiles(in: dir, Layout.isIndexFileName).map { (name: $0.0, size: $0.1) }.sorted { $0.name < $1.name }
    }

    public func download(_ rel: String, to local: String, limit: UInt64) throws -> UInt64 {
        let src = try open(rel, limit: limit)
        let size = UInt64(try src.stat().st_size)
        let out = try FileHandleFD.create(local)
        do {
            try FS.copyRange(from: src, at: 0, count: size, to: out)
            try out.sync()
        } catch {
            FS.remove(local)
            throw error
        }
        return size
    }

    /// Copied into tmp/, fsynced, renamed into place: the remote shows whole files or none.
    public func upload(_ local: String, to rel: String) throws -> UInt64 {
        let dest = FS.join(root, rel)
        try checkRealFolder(FS.dirname(rel))
        // The name `removeStaleUploads` recognises.
        let tmp = FS.join(root, Layout.uploadTempName(for: rel, pid: getpid()))
        let src = try FileHandleFD.openRead(local)
        let size = UInt64(try src.stat().st_size)
        do {
            let out = try FileHandleFD.create(tmp)
            try FS.copyRange(from: src, at: 0, count: size, to: out)
            try out.sync()
            // Durable before the caller uploads the index that names this pack (write order).
            try FS.moveIntoPlace(tmp, to: dest)
        } catch {
            FS.remove(tmp)
            throw error
        }
        return size
    }

    /// Never through a symlink: only a regular file is removed.
    public func delete(_ rel: String) throws {
        let path = FS.join(root, rel)
        guard let st = FS.lstat(path) else { return }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw TransportError.damaged(path: describe(rel), why: "not a regular file (a symlink, FIFO, device or folder mlv never writes)")
        }
        FS.remove(path)
        try FS.syncDirectory(FS.dirname(path))
    }

    public func withLocalCopy<T>(_ rel: String, tmpDir: String, limit: UInt64, _ body: (FileHandleFD) throws -> T) throws -> T {
        try body(try open(rel, limit: limit))
    }
}
