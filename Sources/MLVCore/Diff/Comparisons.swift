// The comparisons `mlv diff` gives a changed target, one type per kind of content; which one a
// target gets is decided in Comparison.swift (`TargetComparisons.registered`). Each reads
// both sides through `DiffEngine` (the store for a commit, the disk for the working tree)
// and fills in the typed part of the target's entry.
import MLVStore

/// Metrics and params: every value by key, whatever each side holds (a side without the file
/// has none); the changes go to the report's metrics or params.
struct MetricsComparison: TargetComparison {
    init?(_ s: ComparisonSubject) {
        guard s.kind == .metrics || s.kind == .params else { return nil }
    }

    func compare(_ s: ComparisonSubject, in c: ComparisonContext, into t: inout TargetDiff) throws -> ComparisonOutcome {
        let engine = c.engine, path = s.path
        let old = try s.old.flatMap { try engine.content(c.a, path, $0, store: c.store) }.map { try flattenMetrics($0, path: "\(path)@\(c.a.label)", formatPath: path) } ?? [:]
        let new = try s.new.flatMap { try engine.content(c.b, path, $0, store: c.store) }.map { try flattenMetrics($0, path: "\(path)@\(c.b.label)", formatPath: path) } ?? [:]
        return .values(compareMetrics(file: path, old: old, new: new))
    }
}

/// A folder on both sides: files added, removed, modified and renamed, and the first five
/// changed tables among them compared as tables.
struct FolderComparison: TargetComparison {
    let old: Pointer, new: Pointer
    let ids: (old: ObjectID, new: ObjectID)

    init?(_ s: ComparisonSubject) {
        guard let ids = s.snapshots(ifBoth: .dir), let old = s.old, let new = s.new else { return nil }
        (self.old, self.new, self.ids) = (old, new, ids)
    }

    func compare(_ s: ComparisonSubject, in c: ComparisonContext, into t: inout TargetDiff) throws -> ComparisonOutcome {
        let engine = c.engine, path = s.path, a = c.a, b = c.b, store = c.store
        let fa = try engine.listFiles(a, path, ids.old, declared: (old.size, old.files), store: store, snap: c.snap)
        let fb = try engine.listFiles(b, path, ids.new, declared: (new.size, new.files), store: store, snap: c.snap)
        t.files = fileChanges(fa, fb)
        // `-- in/x.csv` or `-- in/sub`: only what lies there (a rename, by either name).
        let narrow = c.narrowedTo
        if !narrow.isEmpty {
            t.files = t.files.filter { f in
                narrow.contains { n in RepoPath.isWithin(f.path, n) || f.from.map { RepoPath.isWithin($0, n) } == true }
            }
            if t.files.isEmpty { return .narrowedAway }
        }
        var notCompared: [String] = []
        for f in t.files where f.change == .modified {
            // The first five changed tables of a folder are compared; the others
            // are named, so a drift gate over them cannot pass unseen.
            if TableFormat(path: f.path) != nil && t.tables.count >= 5 { notCompared.append(f.path); continue }
            if let fmt = TableFormat(path: f.path) {
                var fileOptions = c.keyed(c.tableOptions, f.path, path)
                fileOptions.partitions = DiffEngine.partitions(forBytes: fa[f.path]?.1 ?? 0)
                do {
                    t.tables[f.path] = try diffTables(oldName: "\(f.path)@\(a.label)", newName: "\(f.path)@\(b.label)",
                                                      format: fmt, options: fileOptions) { newSide in
                        newSide ? try engine.stream(b, f.path, fb[f.path]!.0, store: store)
                                : try engine.stream(a, f.path, fa[f.path]!.0, store: store)
                    }
                } catch let e as DiffError where e.isUncomparableTable {
                    // Cannot be compared as a table: the file list still says it changed.
                    t.warnings = (t.warnings ?? []) + ["\(e); not compared as a table"]
                    t.uncomparedTables.append(f.path)
                }
            }
        }
        if !notCompared.isEmpty {
            t.uncomparedTables += notCompared
            t.warnings = (t.warnings ?? []) + ["\(notCompared.count) more changed table\(notCompared.count == 1 ? "" : "s") not compared (a folder's diff compares the first 5): \(notCompared.prefix(3).joined(separator: ", "))\(notCompared.count > 3 ? ", ..." : "")"]
        }
        return .listed
    }
}

/// A dataset file in a table format (by its name, else by its new side's first bytes): rows,
/// columns, cells and statistics. One that does not parse gets the byte-level summary.
struct TableComparison: TargetComparison {
    let format: TableFormat
    let ids: (old: ObjectID, new: ObjectID)

    init?(_ s: ComparisonSubject) throws {
        guard s.kind == .dataset, let ids = s.snapshots(ifBoth: .file),
              let format = try TableFormat(path: s.path) ?? s.sniffTable() else { return nil }
        (self.format, self.ids) = (format, ids)
    }

    func compare(_ s: ComparisonSubject, in c: ComparisonContext, into t: inout TargetDiff) throws -> ComparisonOutcome {
        let engine = c.engine, path = s.path, a = c.a, b = c.b, store = c.store, ids = ids
        do {
            t.table = try diffTables(oldName: "\(path)@\(a.label)", newName: "\(path)@\(b.label)",
                                     format: format, options: c.tableOptions) { newSide in
                newSide ? try engine.stream(b, path, ids.new, store: store) : try engine.stream(a, path, ids.old, store: store)
            }
        } catch let e as DiffError where e.isUncomparableTable {
            // One table that does not parse must not cost the whole report.
            t.warnings = ["\(e); showing a byte-level summary instead of a table diff"]
            t.uncomparedTables.append(path)
            t.binary = try engine.binaryDiff(a, b, path, ids.old, ids.new, store: store)
        }
        return .listed
    }
}

/// Feature definitions: entities, views and features added, removed, renamed or changed, and
/// the models whose declared inputs they feed.
struct FeaturesComparison: TargetComparison {
    let ids: (old: ObjectID, new: ObjectID)

    init?(_ s: ComparisonSubject) {
        guard s.kind == .features, let ids = s.snapshots(ifBoth: .file) else { return nil }
        self.ids = ids
    }

    func compare(_ s: ComparisonSubject, in c: ComparisonContext, into t: inout TargetDiff) throws -> ComparisonOutcome {
        let engine = c.engine, path = s.path, store = c.store
        let fa = try FeatureSet.parse(readAll(engine.stream(c.a, path, ids.old, store: store), limit: 64 << 20, what: path), path: "\(path)@\(c.a.label)")
        let fb = try FeatureSet.parse(readAll(engine.stream(c.b, path, ids.new, store: store), limit: 64 << 20, what: path), path: "\(path)@\(c.b.label)")
        let changes = diffFeatures(fa, fb)
        t.features = FeaturesDiff(changes: changes, modelsToRetrain: engine.modelsUsing(path, fa, fb, changes))
        return .listed
    }
}

/// A safetensors file: chunk reuse, then (both sides up to `DiffEngine.tensorDiffLimit`)
/// tensor by tensor.
struct SafetensorsComparison: TargetComparison {
    let old: Pointer, new: Pointer
    let ids: (old: ObjectID, new: ObjectID)

    init?(_ s: ComparisonSubject) {
        guard s.path.lowercased().hasSuffix(".safetensors"), let ids = s.snapshots(ifBoth: .file),
              let old = s.old, let new = s.new else { return nil }
        (self.old, self.new, self.ids) = (old, new, ids)
    }

    func compare(_ s: ComparisonSubject, in c: ComparisonContext, into t: inout TargetDiff) throws -> ComparisonOutcome {
        let engine = c.engine, path = s.path, store = c.store, limit = DiffEngine.tensorDiffLimit
        t.binary = try engine.binaryDiff(c.a, c.b, path, ids.old, ids.new, store: store)
        if old.size <= limit, new.size <= limit {
            do {
                t.tensors = try diffSafetensors(old: readAll(engine.stream(c.a, path, ids.old, store: store), limit: Int(limit), what: path),
                                                new: readAll(engine.stream(c.b, path, ids.new, store: store), limit: Int(limit), what: path),
                                                path: path)
            } catch let e as DiffError {
                guard case .tooWide = e else { throw e }
                t.warnings = ["\(e); showing the byte-level summary only"]
            }
        }
        return .listed
    }
}

/// Any other file on both sides: how much of the new version is in stored chunks the old one
/// had (`BinaryDiff`).
struct BytesComparison: TargetComparison {
    let ids: (old: ObjectID, new: ObjectID)

    init?(_ s: ComparisonSubject) {
        guard let ids = s.snapshots(ifBoth: .file) else { return nil }
        self.ids = ids
    }

    func compare(_ s: ComparisonSubject, in c: ComparisonContext, into t: inout TargetDiff) throws -> ComparisonOutcome {
        t.binary = try c.engine.binaryDiff(c.a, c.b, s.path, ids.old, ids.new, store: c.store)
        return .listed
    }
}
