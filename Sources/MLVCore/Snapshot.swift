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
            let separator = kind == .dataset ? tabularSeparator(target) : nil
            let (id, archived) = try file(target, st, countLines: separator != nil)
            var s = WorkingSnapshot(id: id, type: .file, size: UInt64(st.st_size), files: 1,
                                    executable: FileStat(st).isExecutable)
            if let sep = separator {
                if let a = archived, let breaks = a.lineBreaks {
                    (s.rows, s.columns) = tableShape(lineBreaks: breaks, endsWithLineBreak: a.endsWithLineBreak,
                                                     header: a.firstLine, separator: sep)
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

    /// A file's manifest id, from the stat cache when it can be trusted; otherwise the file
    /// is read, and what reading it found is returned too.
    private func file(_ rel: String, _ st: stat, countLines: Bool = false) throws -> (ObjectID, ArchivedFile?) {
        let fs = FileStat(st)
        if let id = cache.lookup(rel, fs) {
            // A manifest the store lost (deleted by hand, say) must be written again.
            if let w = archiver.writer, try !w.has(id) {} else { return (id, nil) }
        }
        filesRead += 1
        let a = try archiver.archiveFile(at: ws.absolute(rel), countLines: countLines)
        cache.record(rel, fs, manifest: a.id)
        return (a.id, a)
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

/// The field separator of a CSV or TSV file, by extension.
func tabularSeparator(_ path: String) -> UInt8? {
    let lower = path.lowercased()
    if lower.hasSuffix(".csv") { return UInt8(ascii: ",") }
    if lower.hasSuffix(".tsv") { return UInt8(ascii: "\t") }
    return nil
}

/// Rows (lines after the header) and columns (header fields, quotes respected) of a table.
func tableShape(lineBreaks: UInt64, endsWithLineBreak: Bool, header: [UInt8], separator: UInt8) -> (UInt64, UInt64) {
    let lines = lineBreaks + (endsWithLineBreak ? 0 : 1)
    if lines == 0 { return (0, 0) }
    var fields: UInt64 = 1
    var quoted = false
    for b in header {
        if b == UInt8(ascii: "\"") { quoted.toggle() } else if b == separator && !quoted { fields += 1 }
    }
    return (lines - 1, fields)
}
