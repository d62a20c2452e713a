import MLVSystem
import Glibc
import MLVStore
import MLVParquet
import Synchronization

/// A target's content as the working tree holds it.
public struct WorkingSnapshot: Sendable {
    public var id: ObjectID
    public var type: Pointer.TargetType
    public var size: UInt64
    public var files: UInt64
    public var executable: Bool
    public var rows: UInt64?
    public var columns: UInt64?
    /// A table read now whose rows and columns are absent, and why (`TableCount`).
    public var uncounted: TableCount.Missing?
}

/// Why a CSV/TSV read in full has no count (`tableShape`, `Archiver.archiveFile`): the one
/// wording commit's warning and its JSON use.
public enum TableCount {
    public enum Missing: String, Codable, Sendable {
        case openQuote = "open_quote"
        case bareCR = "bare_cr"

        /// What is wrong and the fix, for "warning: PATH: no row count: …".
        public var explanation: String {
            switch self {
            case .openQuote: return "it ends inside a quoted field (a quote is never closed: truncated?); close the quote or export the file again, then commit"
            case .bareCR: return "its lines end in a lone CR (classic Mac OS); mlv reads LF and CRLF line ends: convert them (`tr '\\r' '\\n'`), then commit"
            }
        }
    }
}

extension Pointer {
    /// Takes everything a pointer records of its target's content from a snapshot of it:
    /// the one place commit and repro set these fields, so their figures agree.
    mutating func record(_ w: WorkingSnapshot) {
        type = w.type
        executable = w.executable
        snapshot = w.id
        size = w.size
        files = w.files
        rows = w.rows
        columns = w.columns
    }
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
    /// Whether temporary files of an interrupted checkout may be deleted when met: only for
    /// a caller holding the repository lock (a running checkout's files look the same).
    var removesTempFiles = false
    /// Commit sets this: a table whose rows × columns neither this read nor the previous
    /// pointer knows (data brought back from an older commit, say) is read again to count
    /// them, so equal data always gets an equal pointer.
    var needsShape = false

    init(ws: Workspace, cache: StatCache, writer: StoreWriter?) {
        self.ws = ws
        self.cache = cache
        self.archiver = Archiver(writer: writer, level: Int32(ws.config.compressionLevel))
    }

    /// The target being read and its previous pointer: where a file's previous version is
    /// found (`previousManifest`).
    private var current: (target: String, previous: Pointer?)?
    /// The previous snapshot's folders read so far, by name (a folder of many changed
    /// files is read once).
    private var previousFolders: [ObjectID: [String: TreeEntry]] = [:]

    /// The working snapshot of `target`, or nil when nothing is there.
    func snapshot(_ target: String, kind: TargetKind, previous: Pointer?) throws -> WorkingSnapshot? {
        current = (target, previous)
        defer { current = nil; previousFolders = [:] }
        let abs = ws.absolute(target)
        // Through a linked folder, the target's data would be someone else's files (and the
        // temp-file sweep below would delete there).
        try ws.tree.checkParents(abs)
        if removesTempFiles { removeTempSiblings(of: abs) }
        guard let st = FS.lstat(abs) else {
            cache.verified[target] = nil
            return nil
        }
        if st.st_mode & S_IFMT == S_IFDIR, let p = previous, let v = cache.verified[target], p.snapshot == v {
            let stored = try archiver.writer.map { try $0.has(v) } ?? true
            if stored && unchangedSinceVerified(target) {
                return WorkingSnapshot(id: v, type: .dir, size: p.size, files: p.files, executable: false)
            }
        }
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            let format = kind == .dataset ? TableFormat(path: target) : nil
            var separator: UInt8? = nil
            if case .delimited(let sep)? = format { separator = sep }
            let (id, archived) = try file(target, st, tableSeparator: separator)
            // The bytes read, not the stat taken before: a file growing meanwhile must not get
            // a size its manifest does not have (readers refuse that mismatch).
            var s = WorkingSnapshot(id: id, type: .file, size: archived?.size ?? UInt64(st.st_size), files: 1,
                                    executable: FileStat(st).isExecutable)
            if let sep = separator {
                if let a = archived {
                    (s.rows, s.columns, s.uncounted) = counted(a, separator: sep)
                } else if let p = previous, p.snapshot == id {
                    s.rows = p.rows
                    s.columns = p.columns
                } else if needsShape {
                    // Read only when this pass did not (a stat-cache hit): a file just read
                    // without a count has none to give.
                    let a = try archiver.archiveFile(at: abs, countLines: true, tableSeparator: sep)
                    if a.id == id { (s.rows, s.columns, s.uncounted) = counted(a, separator: sep) }
                }
            } else if let shape = Snapshotter.footerOrSecondRead(kind: kind, target: target, format: format) {
                // Formats whose shape is not learned while archiving: from the previous pointer
                // when the content is the same and unread, else from the file (`shape`).
                if let p = previous, p.snapshot == id, archived == nil {
                    s.rows = p.rows
                    s.columns = p.columns
                } else if archived != nil || needsShape {
                    (s.rows, s.columns) = shape(abs, st)
                }
            }
            return s
        case S_IFDIR:
            visited = []
            let (id, size, files) = try directory(target)
            // Entries below the target that this pass did not see are gone: drop them, so
            // the cache holds exactly this content and can vouch for it next time.
            for key in cache.entries.keys where RepoPath.isWithin(key, target) && !visited.contains(key) {
                cache.entries[key] = nil
            }
            cache.verified[target] = id
            return WorkingSnapshot(id: id, type: .dir, size: size, files: files, executable: false)
        case S_IFLNK:
            throw MLVError.invalidArgument("\(target) is a symlink; track the file or directory it points to instead (mlv never follows links out of a target)")
        default:
            throw MLVError.unsupportedFileType(target)
        }
    }

    /// The temporary files an interrupted write of this target or its pointer left next to it
    /// (`.NAME.mlv-tmp-…`, `.NAME.mlv.mlv-tmp-…`); folder targets' insides are cleaned as
    /// they are walked. Only lock holders call this: a running writer's temp files are safe.
    private func removeTempSiblings(of abs: String) {
        let base = FS.basename(abs), dir = FS.dirname(abs)
        let prefixes = [FS.tempPrefix(of: base), FS.tempPrefix(of: base + ".mlv")]
        for name in (try? FS.list(dir)) ?? [] where prefixes.contains(where: { name.hasPrefix($0) }) {
            FS.remove(FS.join(dir, name))
        }
    }

    /// Files smaller than this are read without progress reports.
    static let progressThreshold: Int = 64 << 20

    /// Paths seen by the current full pass over a directory target.
    private var visited = Set<String>()

    /// The fast path: every cache entry below `target` (files, folders, links) still has the
    /// stat it had when the target was verified. A new, removed or renamed name changes its
    /// folder's mtime, so nothing can have changed without one of these stats changing.
    private func unchangedSinceVerified(_ target: String) -> Bool {
        var work: [(path: String, stat: FileStat)] = []
        for (path, e) in cache.entries where RepoPath.isWithin(path, target) {
            guard cache.stillMatches(path, e.stat) else { return false }   // racy: needs a full pass
            work.append((path, e.stat))
        }
        guard !work.isEmpty else { return false }
        // One lstat per entry, on all cores (git's preload-index does the same), each relative
        // to an open descriptor of its folder so the kernel resolves one short name per file.
        let root = ws.root
        let items = SendableBox(work)
        let mismatch = Mutex(false)
        let workers = min(workerCount, max(1, work.count / 512))
        parallel(workers) { w in
            var folders: [Substring: Int32] = [:]
            defer { for fd in folders.values where fd >= 0 { close(fd) } }
            var st = stat()
            var i = w
            while i < items.value.count {
                let (path, expected) = items.value[i]
                i += workers
                var p = path
                let ok = p.withUTF8 { u -> Bool in
                    // Split at the last '/' without allocating: the folder keys the descriptor
                    // cache, the name is passed to fstatat as a C string from the same bytes.
                    var cut = u.count - 1
                    while cut >= 0 && u[cut] != UInt8(ascii: "/") { cut -= 1 }
                    let folder = cut >= 0 ? path.utf8.prefix(cut) : path.utf8.prefix(0)
                    let key = Substring(folder)
                    var dfd = folders[key] ?? -2
                    if dfd == -2 {
                        dfd = open(FS.join(root, String(key)), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
                        folders[key] = dfd
                    }
                    guard dfd >= 0 else { return false }
                    var name = [CChar](repeating: 0, count: u.count - cut)
                    name.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(u)[(cut + 1)...])) }
                    return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && FileStat(st) == expected
                }
                if !ok {
                    mismatch.withLock { $0 = true }
                    return
                }
                if i % 1024 == w && mismatch.withLock({ $0 }) { return }
            }
        }
        if mismatch.withLock({ $0 }) { return false }
        cache.hits += work.count
        return true
    }

    /// A file's manifest id, from the stat cache when it can be trusted; otherwise the file
    /// is read, and what reading it found is returned too.
    /// `tableSeparator`: a CSV/TSV's, to count its records (line breaks outside quoted fields).
    private func file(_ rel: String, _ st: stat, tableSeparator: UInt8? = nil) throws -> (ObjectID, ArchivedFile?) {
        let fs = FileStat(st)
        if let id = cache.lookup(rel, fs) {
            // A manifest the store lost (deleted by hand, say) must be written again.
            if let w = archiver.writer, try !w.has(id) {} else {
                visited.insert(rel)
                return (id, nil)
            }
        }
        visited.insert(rel)
        filesRead += 1
        if let report = ws.progress, st.st_size >= Snapshotter.progressThreshold {
            let total = UInt64(st.st_size)
            archiver.onProgress = { report("reading \(rel)", $0, total) }
        } else {
            archiver.onProgress = nil
        }
        if tableSeparator != nil && archiver.recordCache == nil { archiver.recordCache = RecordCache.load(path: ws.recordCachePath) }
        let a = try archiver.archiveFile(at: ws.absolute(rel), countLines: tableSeparator != nil, tableSeparator: tableSeparator,
                                         previous: previousManifest(rel))
        cache.record(rel, fs, manifest: a.id)
        return (a.id, a)
    }

    /// A CSV/TSV's rows and columns from what archiving it counted, or why there are none.
    private func counted(_ a: ArchivedFile, separator: UInt8) -> (UInt64?, UInt64?, TableCount.Missing?) {
        guard let records = a.records else { return (nil, nil, .openQuote) }
        let (rows, columns) = tableShape(records: records, head: a.head, size: a.size, separator: separator)
        return (rows, columns, rows == nil ? .bareCR : nil)
    }

    /// How a dataset that is no CSV/TSV gets its shape: JSON Lines by reading it again,
    /// Parquet from its footer; nil for other files.
    static func footerOrSecondRead(kind: TargetKind, target: String, format: TableFormat?) -> ((String, stat) -> (UInt64?, UInt64?))? {
        guard kind == .dataset else { return nil }
        if case .jsonLines? = format { return jsonLinesShape }
        guard target.lowercased().hasSuffix(".parquet") else { return nil }
        return parquetShape
    }

    /// Keeps what this pass learned of tables' chunks for the next one (a cache: a failure
    /// to write it only costs a scan).
    func saveRecordCache() {
        guard let c = archiver.recordCache else { return }
        try? FS.makeDirectories(FS.dirname(ws.recordCachePath))
        try? c.save(path: ws.recordCachePath)
    }

    /// The manifest `rel` had in its target's previous snapshot, when committing and the
    /// store holds it: new chunks are stored as deltas against its chunks. Anything that
    /// does not resolve (a new file, a snapshot not fetched) means no previous version.
    private func previousManifest(_ rel: String) -> ObjectID? {
        guard let w = archiver.writer, let (target, p) = current, let p, let root = p.snapshot else { return nil }
        if rel == target { return p.type == .file ? root : nil }
        guard p.type == .dir, RepoPath.isWithin(rel, target) else { return nil }
        var id = root
        let names = rel.dropFirst(target.count + 1).split(separator: "/")
        for (k, name) in names.enumerated() {
            if previousFolders[id] == nil {
                guard let t = try? w.store.tree(id) else { return nil }
                previousFolders[id] = Dictionary(t.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
            }
            guard let entry = previousFolders[id]?[String(name)] else { return nil }
            let last = k == names.count - 1
            guard last ? entry.kind == .file : entry.kind == .directory else { return nil }
            id = entry.id
        }
        return id
    }

    /// `depth`: trees from the target's root to this folder's, this one included; past the
    /// format's limit the folder could be stored but never read back (and the recursion stays
    /// bounded).
    private func directory(_ rel: String, depth: Int = 1) throws -> (ObjectID, UInt64, UInt64) {
        guard depth <= TreeLimits.maxDepth else { throw MLVError.invalidArgument(tooDeep(rel)) }
        let abs = ws.absolute(rel)
        // The folder's own stat, taken before listing it: a name added after this changes
        // its mtime, so the cache never vouches for a listing it did not see.
        guard let dst = FS.lstat(abs) else { throw IOError("stat", abs) }
        cache.entries[rel] = StatCache.Entry(stat: FileStat(dst), manifest: ObjectID.zero)
        visited.insert(rel)
        // Entries are stat'ed relative to the open directory (fstatat), so the kernel does
        // not walk the whole path again for each of thousands of files.
        let dfd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
        if dfd < 0 { throw IOError("open", abs) }
        defer { close(dfd) }
        var entries: [TreeEntry] = []
        for name in try FS.listSorted(abs) {
            if FS.isTempName(name) {
                if removesTempFiles { unlinkat(dfd, name, 0) }   // left by an interrupted checkout
                continue
            }
            let childRel = rel + "/" + name
            do { try validateName(name) } catch { throw MLVError.invalidArgument("\(childRel.debugDescription): \(error)") }
            var st = stat()
            guard fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }   // vanished meanwhile
            switch st.st_mode & S_IFMT {
            case S_IFREG:
                let (id, archived) = try file(childRel, st)
                entries.append(TreeEntry(name: name, kind: .file, executable: FileStat(st).isExecutable,
                                         size: archived?.size ?? UInt64(st.st_size), files: 1, id: id))
            case S_IFDIR:
                let (id, size, files) = try directory(childRel, depth: depth + 1)
                entries.append(TreeEntry(name: name, kind: .directory, size: size, files: files, id: id))
            case S_IFLNK:
                let target = try readLink(FS.join(abs, name))
                let id = try archiver.store(target, type: .chunk)
                cache.entries[childRel] = StatCache.Entry(stat: FileStat(st), manifest: id)
                visited.insert(childRel)
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

/// The error for a working folder nested deeper than a snapshot may be (man/mlv-store.5, LIMITS).
func tooDeep(_ rel: String) -> String {
    let shown = rel.utf8.count > 160 ? "\(rel.prefix(60))…\(rel.suffix(60))" : rel
    return "\(shown) is nested more than \(TreeLimits.maxDepth) folders deep inside its target, deeper than mlv stores (see `man mlv-store`, LIMITS); flatten it, or track a folder further down"
}


func readLink(_ path: String) throws -> [UInt8] {
    var buf = [UInt8](repeating: 0, count: 4096)
    let n = buf.withUnsafeMutableBytes { readlink(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), 4096) }
    if n < 0 { throw IOError("readlink", path) }
    return Array(buf[0..<n])
}

/// Rows (objects) and columns (distinct keys) of a JSON Lines table, from the key pass of
/// the reader `mlv diff` uses, so both show the same figures. Nil when it does not read as a
/// table (the diff shows bytes then) or the file changed since `st` (a count is exact or
/// absent). A second read of the file: JSON has to be parsed to know its keys.
/// Rows and columns of a Parquet file from its footer (`ParquetMetadata`: the row count is
/// taken only when its row groups add up to it; columns are the schema's top-level fields).
/// Nil for a file that is not Parquet, has a damaged or encrypted footer, or changed since
/// `st`. Reads the footer only, from the end of the file.
func parquetShape(_ abs: String, _ st: stat) -> (UInt64?, UInt64?) {
    /// Exactly `range` of the file (`pread` retries short reads; fewer bytes is its end).
    func read(_ f: FileHandleFD, _ range: Range<UInt64>) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(range.count))
        let n = try out.withUnsafeMutableBytes { try f.pread(into: $0, at: range.lowerBound) }
        guard n == out.count else { throw ParquetError.badFooter("the file ends early") }
        return out
    }
    guard let f = try? FileHandleFD.openRead(abs) else { return (nil, nil) }
    let size = UInt64(st.st_size)
    guard size >= 12, let tail = try? read(f, (size - 8)..<size),
          let range = try? ParquetFooter.metadataRange(fileSize: size, tail: tail),
          let meta = try? ParquetMetadata(decoding: read(f, range)),
          let after = FS.lstat(abs), FileStat(after) == FileStat(st) else { return (nil, nil) }
    return (UInt64(meta.rows), UInt64(meta.columns))
}

func jsonLinesShape(_ abs: String, _ st: stat) -> (UInt64?, UInt64?) {
    guard let r = try? JSONLinesReader(open: { try WorkingFileStream(path: abs) }, name: abs),
          let after = FS.lstat(abs), FileStat(after) == FileStat(st) else { return (nil, nil) }
    return (r.records, UInt64(r.header.count))
}

/// Rows and columns of a table from what the archiver found while storing it: `records`
/// (records with content, header included: line breaks inside quoted fields and blank lines
/// are not record ends) and `head` (its first `Archiver.headLimit` bytes). Whether the first
/// record is a header, and its field count, come from `sniffTable` on those bytes, as
/// `mlv diff` reads them, so both show the same figures. Columns are exact or nil: nil when
/// the first record does not end inside `head`. Rows with more or fewer fields (a ragged
/// table) do not change them.
///
/// Nil rows and columns when the first line holds a bare CR (one not before an LF): lines
/// that end in a lone CR (classic Mac OS, Excel's "CSV (Macintosh)") are one line to mlv's
/// readers, which end lines at LF and CRLF as RFC 4180 does, so any count would be wrong.
func tableShape(records: UInt64, head: [UInt8], size: UInt64, separator: UInt8) -> (UInt64?, UInt64?) {
    if records == 0 { return (0, 0) }
    let firstLine = head.firstIndex(of: 0x0A) ?? head.count
    if head[..<firstLine].enumerated().contains(where: { $0.element == 0x0D && $0.offset + 1 < firstLine }) { return (nil, nil) }
    let sniffed = sniffTable(head: head, complete: size <= UInt64(Archiver.headLimit), separator: separator)
    return (sniffed.firstIsData ? records : records - 1, sniffed.columns.map { UInt64($0) })
}
