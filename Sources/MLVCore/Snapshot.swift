import Glibc
import MLVStore

/// A target's content as the working tree holds it.
public struct WorkingSnapshot: Sendable {
    public var id: ObjectID
    public var type: Pointer.TargetType
    public var size: UInt64
    public var files: UInt64
    public var executable: Bool
    public var rows: UInt64?
    public var columns: UInt64?
}

/// Reads working targets into snapshots: with a store writer (commit) every new chunk,
/// manifest and tree is stored; without one (status, checkout's safety check) ids are only
/// computed. Files whose stat matches the stat cache are not read at all.
final class Snapshotter {
    let ws: Workspace
    var cache: StatCache
    let archiver: Archiver
    /// Files actually read (stat cache misses), for `status --json` and tests.
    private(set) var filesRead = 0

    init(ws: Workspace, cache: StatCache, writer: StoreWriter?) {
        self.ws = ws
        self.cache = cache
        self.archiver = Archiver(writer: writer, level: Int32(ws.config.compressionLevel))
    }

    /// The working snapshot of `target`, or nil when nothing is there.
    func snapshot(_ target: String, kind: TargetKind, previous: Pointer?) throws -> WorkingSnapshot? {
        let abs = ws.absolute(target)
        guard let st = FS.lstat(abs) else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            let tabular = kind == .dataset ? TabularCounter(path: target) : nil
            let (id, read) = try file(target, st, counter: tabular)
            var s = WorkingSnapshot(id: id, type: .file, size: UInt64(st.st_size), files: 1,
                                    executable: FileStat(st).isExecutable)
            if let t = tabular {
                if read {
                    s.rows = t.rows
                    s.columns = t.columns
                } else if let p = previous, p.snapshot == id {
                    s.rows = p.rows
                    s.columns = p.columns
                }
            }
            return s
        case S_IFDIR:
            let (id, size, files) = try directory(target)
            return WorkingSnapshot(id: id, type: .dir, size: size, files: files, executable: false)
        case S_IFLNK:
            throw MLVError.invalidArgument("\(target) is a symlink; track the file or directory it points to instead (mlv never follows links out of a target)")
        default:
            throw MLVError.unsupportedFileType(target)
        }
    }

    /// A file's manifest id, from the stat cache when it can be trusted. Returns whether the
    /// file was read.
    private func file(_ rel: String, _ st: stat, counter: TabularCounter? = nil) throws -> (ObjectID, Bool) {
        let fs = FileStat(st)
        if let id = cache.lookup(rel, fs) {
            // A manifest the store lost (deleted by hand, say) must be written again.
            if let w = archiver.writer, try !w.has(id) {} else { return (id, false) }
        }
        filesRead += 1
        let (id, _) = try archiver.archiveFile(at: ws.absolute(rel), observe: counter.map { c in { c.feed($0) } })
        counter?.finish()
        cache.record(rel, fs, manifest: id)
        return (id, true)
    }

    private func directory(_ rel: String) throws -> (ObjectID, UInt64, UInt64) {
        let abs = ws.absolute(rel)
        var entries: [TreeEntry] = []
        for name in try FS.list(abs) {
            let childRel = rel + "/" + name
            if isTempName(name) {
                FS.remove(FS.join(abs, name))   // left by an interrupted checkout
                continue
            }
            do { try validateName(name) } catch { throw MLVError.invalidArgument("\(childRel.debugDescription): \(error)") }
            guard let st = FS.lstat(FS.join(abs, name)) else { continue }   // vanished meanwhile
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                let (id, _) = try file(childRel, st)
                entries.append(TreeEntry(name: name, kind: .file, executable: FileStat(st).isExecutable,
                                         size: UInt64(st.st_size), files: 1, id: id))
            case S_IFDIR:
                let (id, size, files) = try directory(childRel)
                entries.append(TreeEntry(name: name, kind: .directory, size: size, files: files, id: id))
            case S_IFLNK:
                let target = try readLink(FS.join(abs, name))
                let id = try archiver.store(target, type: .chunk)
                entries.append(TreeEntry(name: name, kind: .symlink, size: UInt64(target.count), files: 0, id: id))
            default:
                throw MLVError.unsupportedFileType(childRel)
            }
        }
        let tree = Tree(entries: entries)
        let id = try archiver.store(tree.encoded(), type: .tree)
        return (id, tree.size, tree.files)
    }
}

/// Names of the temporary files mlv writes next to their final place.
func isTempName(_ name: String) -> Bool { name.hasPrefix(".") && name.contains(".mlv-tmp-") }

func readLink(_ path: String) throws -> [UInt8] {
    var buf = [UInt8](repeating: 0, count: 4096)
    let n = buf.withUnsafeMutableBytes { readlink(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), 4096) }
    if n < 0 { throw IOError("readlink", path) }
    return Array(buf[0..<n])
}

/// Counts data rows (lines after the first) and header fields of a CSV/TSV as it streams by.
final class TabularCounter {
    let separator: UInt8
    private(set) var rows: UInt64?
    private(set) var columns: UInt64?
    private var lines: UInt64 = 0
    private var header: [UInt8] = []
    private var headerDone = false
    private var lastByte: UInt8 = UInt8(ascii: "\n")

    init?(path: String) {
        let lower = path.lowercased()
        if lower.hasSuffix(".csv") { separator = UInt8(ascii: ",") }
        else if lower.hasSuffix(".tsv") { separator = UInt8(ascii: "\t") }
        else { return nil }
    }

    func feed(_ buf: UnsafeRawBufferPointer) {
        guard let base = buf.baseAddress, buf.count > 0 else { return }
        var p = base
        let end = base + buf.count
        if !headerDone {
            if let nl = memchr(p, 0x0A, end - p) {
                header.append(contentsOf: UnsafeRawBufferPointer(start: p, count: UnsafeRawPointer(nl) - p))
                headerDone = true
            } else if header.count < 1 << 20 {
                header.append(contentsOf: UnsafeRawBufferPointer(start: p, count: end - p))
            }
        }
        while p < end, let nl = memchr(p, 0x0A, end - p) {
            lines += 1
            p = UnsafeRawPointer(nl) + 1
        }
        lastByte = buf[buf.count - 1]
    }

    func finish() {
        let total = lines + (lastByte == UInt8(ascii: "\n") ? 0 : 1)
        guard total > 0 || !header.isEmpty else { rows = 0; columns = 0; return }
        rows = total > 0 ? total - 1 : 0
        var fields: UInt64 = 1
        var quoted = false
        for b in header {
            if b == UInt8(ascii: "\"") { quoted.toggle() } else if b == separator && !quoted { fields += 1 }
        }
        columns = fields
    }
}
