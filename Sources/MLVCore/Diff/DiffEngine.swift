// `mlv diff`'s walk (`DiffEngine`): the two sides (a commit, or the working tree), the
// targets that differ between them, each handed to its comparison (Comparison.swift), then
// metrics and params kept in git; and what the comparisons read with (streams from the store
// or the disk, a folder's file list, chunk reuse, renamed files).
import MLVSystem
import Glibc
import MLVGit
import MLVStore

/// One side of a diff: a commit, or the working tree.
struct DiffSide {
    let label: String
    let commit: GitOID?
    /// Target path -> (pointer with the content's snapshot id).
    var targets: [String: Pointer] = [:]
    /// HEAD before the first commit: nothing at all (not the working tree, as `commit` nil says otherwise).
    var empty = false
    /// Working-tree targets never checked out here (a fresh clone): their pointer stands for
    /// them, and their content is the store's, as `mlv status` says "not checked out", not deleted.
    var stored: Set<String> = []

    /// True when `path` (a target or a file in one) is read from the store, not from disk.
    func readsStore(_ path: String) -> Bool {
        commit != nil || (!stored.isEmpty && stored.contains { RepoPath.isWithin(path, $0) })
    }
}

/// `mlv diff` and `mlv metrics show` over a workspace: the sides, the walk over targets, and
/// what each comparison reads with.
public struct DiffEngine {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// One side of a diff: the commit `rev` names, or (nil) the working tree, whose snapshots
    /// are taken with `snap` (made on first use and kept for listing folder files).
    func diffSide(_ rev: String?, snap: inout Snapshotter?) throws -> DiffSide {
        if let rev {
            let c = try ws.resolve(rev)
            var s = DiffSide(label: rev, commit: c)
            for (p, ptr) in try ws.targets(at: c) { s.targets[p] = ptr }
            return s
        }
        // The working tree: current pointers, with the snapshot of what is on disk.
        let sn = snap ?? Snapshotter(ws: ws, cache: ws.loadStatCache(), writer: nil)
        snap = sn
        var s = DiffSide(label: "working tree", commit: nil)
        for (p, ptr) in try ws.targets() {
            guard let w = try sn.snapshot(p, kind: ptr.kind, previous: ptr) else {
                if ptr.snapshot != nil && sn.cache.synced[p] == nil {
                    s.targets[p] = ptr
                    s.stored.insert(p)
                }
                continue
            }
            var q = ptr
            q.snapshot = w.id
            q.size = w.size
            q.files = w.files
            q.type = w.type
            s.targets[p] = q
        }
        return s
    }

    /// `mlv metrics show`: every metric at a revision, or (nil) in the working tree, as
    /// changes with only `new` set. Read from that one side: a metrics file deleted in the
    /// working tree is not listed, and the working tree needs no commit yet.
    public func metricValues(at revision: String?) throws -> [MetricChange] {
        let store = try ws.store()
        var snap: Snapshotter? = nil
        let s = try diffSide(revision, snap: &snap)
        var out: [MetricChange] = []
        func add(_ path: String, _ bytes: [UInt8]?) throws {
            guard let bytes else { return }
            let values = try flattenMetrics(bytes, path: "\(path)@\(s.label)", formatPath: path)
            out += compareMetrics(file: path, old: [:], new: values)
        }
        for (path, p) in s.targets.sorted(by: { $0.key < $1.key }) where p.kind == .metrics {
            try add(path, try content(s, path, p, store: store))
        }
        for path in ws.config.metrics { try add(path, try gitFile(s, path)) }
        return out
    }

    /// `mlv diff`: compares tracked data, metrics and params between two commits, or between a
    /// commit and the working tree. Nothing is checked out: pointers come from git, content
    /// streams from the store (or the working tree). `beforeReading` gets the stored snapshots
    /// the comparison will read (changed targets only), before any is read: `mlv diff` fetches
    /// those this clone lacks.
    public func run(_ o: DiffOptions, beforeReading: ([NeededSnapshot]) throws -> Void = { _ in }) throws -> DiffReport {
        let store = try ws.store()
        var snap: Snapshotter? = nil
        // Before the first commit, HEAD is an empty side: everything in the working tree is added.
        let a = try o.from == nil && ws.git.head() == nil ? DiffSide(label: "HEAD (no commits yet)", commit: nil, empty: true)
                                                        : diffSide(o.from ?? "HEAD", snap: &snap)
        let b = try diffSide(o.to, snap: &snap)
        let filters = try o.paths.map { try ws.userPath($0) }
        func selected(_ p: String) -> Bool {
            filters.isEmpty || filters.contains { RepoPath.isWithin(p, $0) || RepoPath.isWithin($0, p) }
        }
        // A path that names nothing on either side is a typo, not "no changes".
        let known = Set(a.targets.keys).union(b.targets.keys).union(ws.config.metrics).union(ws.config.paramsFiles)
        for (input, f) in zip(o.paths, filters) where !known.contains(where: { RepoPath.isWithin($0, f) || RepoPath.isWithin(f, $0) }) {
            throw MLVError.pathNotInDiff(path: input, from: a.label, to: b.label)
        }
        // So is a path inside a target that names nothing in it on either side. One whose
        // side this clone has not fetched yet is looked at again once the data is here.
        var unsure: [(input: String, path: String)] = []
        func checkInside(_ input: String, _ f: String) throws {
            switch try presence(f, known: known, sides: [a, b], store: store) {
            case .absent: throw MLVError.pathNotInDiff(path: input, from: a.label, to: b.label)
            case .unknown: unsure.append((input, f))
            case .present: break
            }
        }
        for (input, f) in zip(o.paths, filters) { try checkInside(input, f) }

        // A key given for a path names a target (or a file inside one) of either side.
        var keyFor: [String: [String]] = [:]
        for (input, k) in o.keys {
            let f = try ws.userPath(input)
            guard known.contains(where: { RepoPath.isWithin(f, $0) }) else {
                throw MLVError.pathNotInDiff(path: input, from: a.label, to: b.label)
            }
            try checkInside(input, f)
            keyFor[f] = k
        }
        /// The paths inside folder target `t` the report is narrowed to; empty: all of it
        /// (no paths given, or one naming the target or a folder holding it).
        func inside(_ t: String) -> [String] {
            if filters.contains(where: { RepoPath.isWithin(t, $0) }) { return [] }
            return filters.filter { RepoPath.isWithin($0, t) }
        }
        /// The key for a table (a target, or a file inside a folder target): its own, else the
        /// global --key (which it may lack), else mlv.yaml's for the target.
        func keyed(_ options: TableDiffOptions, file: String, target: String) -> TableDiffOptions {
            var x = options
            x.globalKeyFor = nil
            if let k = keyFor[file] ?? keyFor[target] { x.key = k }
            else if !o.table.key.isEmpty { x.key = o.table.key; x.globalKeyFor = file }
            else { x.key = ws.config.targets[target]?.key ?? [] }
            return x
        }

        var report = DiffReport(from: a.label, to: b.label, targets: [], metrics: [], params: [])
        report.tracked = Set(a.targets.keys).union(b.targets.keys)
        /// The targets compared: selected, of the kinds asked, and different.
        let compared = Set(a.targets.keys).union(b.targets.keys).sorted().filter { path in
            let pa = a.targets[path], pb = b.targets[path]
            if !selected(path) { return false }
            if let only = o.onlyKinds, !only.contains((pb ?? pa)!.kind) { return false }
            return !(pa?.snapshot == pb?.snapshot && pa?.executable == pb?.executable)
        }
        // What the comparison below reads: both sides of a target of one type on both (an
        // added or removed one is described by its pointer), every side of metrics and params.
        var reads: [NeededSnapshot] = []
        for path in compared {
            let pa = a.targets[path], pb = b.targets[path]
            let kind = (pb ?? pa)!.kind
            guard kind == .metrics || kind == .params || (pa != nil && pa?.type == pb?.type) else { continue }
            for (side, p) in [(a, pa), (b, pb)] where side.readsStore(path) {
                if let p, let id = p.snapshot { reads.append(NeededSnapshot(id: id, path: path, rev: side.commit == nil ? nil : side.label, pointer: p)) }
            }
        }
        try beforeReading(reads)
        for (input, f) in unsure where try presence(f, known: known, sides: [a, b], store: store) == .absent {
            throw MLVError.pathNotInDiff(path: input, from: a.label, to: b.label)
        }
        for path in compared {
            let pa = a.targets[path], pb = b.targets[path]
            let kind = (pb ?? pa)!.kind
            var t = TargetDiff(path: path, kind: kind, change: pa == nil ? .added : (pb == nil ? .removed : .modified),
                               oldSnapshot: pa?.snapshot?.hex, newSnapshot: pb?.snapshot?.hex,
                               oldSize: pa?.size, newSize: pb?.size, files: [], table: nil, tables: [:], binary: nil,
                               features: nil, tensors: nil)
            if pa == nil || pb == nil, let p = pb ?? pa, let rows = p.rows, let columns = p.columns {
                t.shape = .init(rows: rows, columns: columns)
            }
            var tableOptions = keyed(o.table, file: path, target: path)
            // Big tables are compared in partitions of about 128 MiB of old data each.
            tableOptions.partitions = Self.partitions(forBytes: pa?.size ?? 0)
            tableOptions.spillDirectory = store.tmpDir
            // The comparison this target gets (Comparison.swift): one per kind of content.
            let subject = ComparisonSubject(path: path, kind: kind, old: pa, new: pb) { [self] in
                guard let id = pb?.snapshot else { return nil }
                return try sniff(b, path, id, store: store)
            }
            let context = ComparisonContext(engine: self, a: a, b: b, store: store, snap: snap, tableOptions: tableOptions,
                                            keyed: keyed, narrowedTo: inside(path))
            switch try TargetComparisons.select(subject)?.compare(subject, in: context, into: &t) ?? .listed {
            case .listed: report.targets.append(t)
            case .narrowedAway: continue
            case .values(let changes): if kind == .metrics { report.metrics += changes } else { report.params += changes }
            }
        }
        // A global --key that no compared table has is a typo, not a note on every table.
        let tables = report.targets.flatMap { t in t.table.map { [(t.path, $0)] } ?? [] + t.tables.sorted { $0.key < $1.key } }
        if !o.table.key.isEmpty, let first = tables.first?.1.lackedGlobalKey, tables.allSatisfy({ $0.1.lackedGlobalKey != nil }) {
            // One table: its columns help most. Several: name them all, not just the first.
            throw tables.count == 1 ? first : DiffError.keyInNoTable(key: o.table.key, tables: tables.map(\.0))
        }
        // Metrics and params kept in git.
        for (files, kind) in [(ws.config.metrics, TargetKind.metrics), (ws.config.paramsFiles, TargetKind.params)] {
            if let only = o.onlyKinds, !only.contains(kind) { continue }
            for path in files where selected(path) {
                let old = try gitFile(a, path).map { try flattenMetrics($0, path: "\(path)@\(a.label)", formatPath: path) } ?? [:]
                let new = try gitFile(b, path).map { try flattenMetrics($0, path: "\(path)@\(b.label)", formatPath: path) } ?? [:]
                let changes = compareMetrics(file: path, old: old, new: new)
                if kind == .metrics { report.metrics += changes } else { report.params += changes }
            }
        }
        return report
    }

    enum Presence { case present, absent, unknown }

    /// Whether `path`, when it lies strictly inside one of the targets (or git-kept files)
    /// `known`, names a file or folder in it on either side: the working tree is looked at
    /// on disk, a commit in the store's trees (`unknown` while this clone lacks them). A
    /// path that is a target or holds targets is `present`: the caller checked those.
    func presence(_ path: String, known: Set<String>, sides: [DiffSide], store: Store) throws -> Presence {
        guard let t = known.first(where: { RepoPath.isWithin(path, $0) && path != $0 }) else { return .present }
        let sub = String(path.dropFirst(t.count + 1)).split(separator: "/").map(String.init)
        var result = Presence.absent
        for s in sides {
            guard let p = s.targets[t], p.type == .dir, let id = p.snapshot else { continue }
            if !s.readsStore(path) {
                if FS.lstat(ws.absolute(path)) != nil { return .present }
                continue
            }
            do {
                let root = TreeEntry(name: FS.basename(t), kind: .directory, size: p.size, files: p.files, id: id)
                if try ws.entry(in: root, at: sub) != nil { return .present }
            } catch StoreError.missingObject {
                result = .unknown
            }
        }
        return result
    }

    /// Safetensors files up to this size get a tensor-by-tensor comparison (both are read into
    /// memory); bigger ones only the chunk-level share.
    static let tensorDiffLimit: UInt64 = 2 << 30
    /// Old-table bytes per partition of a keyed diff (see `TableDiffOptions.partitions`).
    static let partitionBytes: UInt64 = 128 << 20

    /// Partitions for an old table of `size` bytes: one per 128 MiB, at most 256.
    static func partitions(forBytes size: UInt64) -> Int {
        Int(min(256, size / partitionBytes + (size % partitionBytes == 0 ? 0 : 1)).clamped(to: 1...256))
    }

    /// Models whose declared inputs (mlv.yaml `targets: {model: {inputs: [...]}}`) include the
    /// feature file, or the source dataset of a view that changed.
    func modelsUsing(_ path: String, _ a: FeatureSet, _ b: FeatureSet, _ changes: [FeatureChange]) -> [String] {
        guard !changes.isEmpty else { return [] }
        let views = Set(changes.map { String($0.name.split(separator: "/").first ?? "") })
        let sources = Set(((a.featureViews ?? []) + (b.featureViews ?? [])).filter { views.contains($0.name) }.compactMap(\.source))
        return ws.config.targets.filter { _, s in
            (s.inputs ?? []).contains { $0 == path || sources.contains($0) }
        }.keys.sorted()
    }

    /// The table format of a dataset file whose name does not tell, from its first bytes.
    func sniff(_ s: DiffSide, _ path: String, _ id: ObjectID, store: Store) throws -> TableFormat? {
        // The block belongs to the stream: keep the stream alive while it is read.
        let st = try stream(s, path, id, store: store)
        return try withExtendedLifetime(st) {
            guard let head = try st.next() else { return nil }
            return TableFormat(sniffing: head)
        }
    }

    /// A file git itself tracks, at a commit or in the working tree.
    func gitFile(_ s: DiffSide, _ path: String) throws -> [UInt8]? {
        if s.empty { return nil }
        if let c = s.commit { return try ws.git.blob(at: path, in: c) }
        return try ws.tree.read(path)
    }

    /// A small tracked file's whole content (metrics and params targets).
    func content(_ s: DiffSide, _ path: String, _ p: Pointer, store: Store) throws -> [UInt8]? {
        guard let id = p.snapshot, p.type == .file else { return nil }
        return try readAll(stream(s, path, id, store: store), limit: 64 << 20, what: path)
    }

    /// A file's bytes: from the store for a commit, from disk for the working tree.
    func stream(_ s: DiffSide, _ path: String, _ manifest: ObjectID, store: Store) throws -> ByteStream {
        if !s.readsStore(path) {
            guard let real = try ws.tree.resolvedForReading(path) else { throw IOError("open", ws.absolute(path), code: ENOENT) }
            return try WorkingFileStream(path: real)
        }
        return try StoredFileStream(store: store, manifest: manifest)
    }

    /// Every file below a folder target: path -> (manifest id, size).
    /// `declared`: the pointer's size and files, which the stored tree must match.
    func listFiles(_ s: DiffSide, _ root: String, _ id: ObjectID, declared: (size: UInt64, files: UInt64)? = nil,
                   store: Store, snap: Snapshotter?) throws -> [String: (ObjectID, UInt64)] {
        var out: [String: (ObjectID, UInt64)] = [:]
        if !s.readsStore(root), let snap {
            // The working tree: the snapshot pass just recorded every file's manifest.
            for (p, e) in snap.cache.entries where RepoPath.isWithin(p, root) && e.manifest != .zero && e.stat.mode & 0o170000 == 0o100000 {
                out[p] = (e.manifest, e.stat.size)
            }
            return out
        }
        // Iterative, totals and nesting checked as it goes (TreeWalker).
        var w = TreeWalker(store: store, root: TreeEntry(name: root, kind: .directory, size: declared?.size ?? 0,
                                                         files: declared?.files ?? 0, id: id),
                           path: root, target: root, declared: declared != nil)
        while let item = try w.next() {
            if item.entry.kind == .file { out[item.path] = (item.entry.id, item.entry.size) }
        }
        return out
    }

    /// The share of a binary's new bytes that sit in chunks the old version had (BinaryDiff).
    func binaryDiff(_ a: DiffSide, _ b: DiffSide, _ path: String, _ sa: ObjectID, _ sb: ObjectID, store: Store) throws -> BinaryDiff {
        func chunks(_ s: DiffSide, _ id: ObjectID) throws -> [ManifestChunk] {
            if s.readsStore(path) { return try store.manifest(id).chunks }
            return try Archiver(writer: nil).chunkList(at: ws.absolute(path))
        }
        let old = Set(try chunks(a, sa).map(\.id))
        let new = try chunks(b, sb)
        let total = new.reduce(UInt64(0)) { $0 + UInt64($1.length) }
        let kept = new.filter { old.contains($0.id) }
        let reused = kept.reduce(UInt64(0)) { $0 + UInt64($1.length) }
        return BinaryDiff(reusedBytes: reused, newBytes: total - reused, reusedShare: total > 0 ? Double(reused) / Double(total) : 1,
                          chunks: new.count, reusedChunks: kept.count)
    }
}

/// Files added, removed, modified, and renamed (same content under another path).
func fileChanges(_ a: [String: (ObjectID, UInt64)], _ b: [String: (ObjectID, UInt64)]) -> [FileChange] {
    var out: [FileChange] = []
    var removed = a.keys.filter { b[$0] == nil }.sorted()
    var added = b.keys.filter { a[$0] == nil }.sorted()
    for p in Set(a.keys).intersection(b.keys).sorted() where a[p]!.0 != b[p]!.0 {
        out.append(FileChange(path: p, change: .modified, from: nil, oldSize: a[p]!.1, newSize: b[p]!.1))
    }
    var byContent: [ObjectID: [String]] = [:]
    for p in removed { byContent[a[p]!.0, default: []].append(p) }
    for p in added {
        if var olds = byContent[b[p]!.0], !olds.isEmpty {
            let from = olds.removeFirst()
            byContent[b[p]!.0] = olds
            removed.removeAll { $0 == from }
            added.removeAll { $0 == p }
            out.append(FileChange(path: p, change: .renamed, from: from, oldSize: a[from]!.1, newSize: b[p]!.1))
        }
    }
    for p in added { out.append(FileChange(path: p, change: .added, from: nil, oldSize: nil, newSize: b[p]!.1)) }
    for p in removed { out.append(FileChange(path: p, change: .removed, from: nil, oldSize: a[p]!.1, newSize: nil)) }
    return out.sorted { $0.path < $1.path }
}

extension Comparable {
    func clamped(to r: ClosedRange<Self>) -> Self { min(max(self, r.lowerBound), r.upperBound) }
}
