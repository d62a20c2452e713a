// What changed between two versions of a table (`TableDiff`), the options of a table diff, and
// `diffTables`, which reads both sides, profiles their columns and matches their rows.

/// What changed between two versions of a table.
public struct TableDiff: Codable, Sendable {
    public struct Rows: Codable, Sendable {
        public var keyed: Bool
        public var key: [String]
        public var old: Int
        public var new: Int
        public var added: Int
        public var removed: Int
        /// Keys left with exactly one old and one new row (after identical rows of the key
        /// paired off) whose cells, in columns both versions have, differ.
        public var modified: Int
        public var duplicateKeysOld: Int
        public var duplicateKeysNew: Int

        enum CodingKeys: String, CodingKey {
            case keyed, key, old, new, added, removed, modified
            case duplicateKeysOld = "duplicate_keys_old"
            case duplicateKeysNew = "duplicate_keys_new"
        }
    }

    public struct Columns: Codable, Sendable {
        public var added: [String]
        public var removed: [String]
        public var typeChanged: [TypeChange]
        public var reordered: Bool

        enum CodingKeys: String, CodingKey {
            case added, removed, reordered
            case typeChanged = "type_changed"
        }
    }

    public struct TypeChange: Codable, Sendable {
        public var column: String
        /// Position in the new version's header, from 0.
        public var index: Int
        public var old: ColumnType
        public var new: ColumnType
    }

    /// `column` is the column's name, or for a name its header repeats (`id,v,v`) the label
    /// `v (column 3)` (1-based position), so that no two columns read alike; `index` is its
    /// 0-based position (in the new version, or the old one for a removed column).
    public struct ColumnDelta: Codable, Sendable {
        public var column: String
        public var index: Int
        public var old: ColumnStats?
        public var new: ColumnStats?
        /// Population stability index between the versions (numeric: deciles of the old
        /// values, from reservoir samples of up to 4,096 values per side; otherwise
        /// categories); nil when a side has fewer than `minimumDriftValues` values.
        public var drift: Double?
        public var drifted: Bool
        /// Numeric columns on both sides: shares of each version's values in 20 equal-width
        /// bins over the joint range (from samples of up to 4,096 values), for charts.
        public var histogram: Histogram?
    }

    public struct Histogram: Codable, Sendable {
        public var edges: [Double]
        public var old: [Double]
        public var new: [Double]
    }

    public struct CellChange: Codable, Sendable {
        public var column: String
        /// Position in the new version's header, from 0.
        public var index: Int
        public var old: String
        public var new: String
    }

    public struct ModifiedRow: Codable, Sendable {
        public var key: [String: String]
        public var line: Int             // in the new version
        public var cells: [CellChange]
    }

    public var rows: Rows
    public var cellsChanged: Int
    public var columns: Columns
    public var stats: [ColumnDelta]
    public var modifiedRows: [ModifiedRow]
    public var addedSample: [[String: String]]
    public var removedSample: [[String: String]]
    public var maxDrift: Double?
    /// How the comparison departed from what was asked, one sentence each (a global --key
    /// this table lacks: compared as a multiset). Absent when there is nothing to say.
    public var notes: [String]? = nil
    /// The global --key's first column this table lacked (not in JSON): a key no compared
    /// table has is a typo, which `diff` reports as an error (DiffEngine).
    var lackedGlobalKey: DiffError? = nil

    enum CodingKeys: String, CodingKey {
        case rows, columns, stats, notes
        case cellsChanged = "cells_changed"
        case modifiedRows = "modified_rows"
        case addedSample = "added_sample"
        case removedSample = "removed_sample"
        case maxDrift = "max_drift"
    }
}

public struct TableDiffOptions: Sendable {
    public var key: [String] = []          // empty: rows compared as a multiset
    public var rowSamples = 5              // modified rows with cell detail, added/removed samples
    public var driftThreshold = 0.2
    /// Big tables: rows are partitioned by key (unkeyed: by the whole row) into this many
    /// pairs of files under `spillDirectory`, and each pair is compared in memory in turn, so
    /// memory is bounded by one partition. 1 = everything in memory.
    public var partitions = 1
    public var spillDirectory = "/tmp"
    /// `key` is the global `--key`, given for every dataset: a table lacking one of its
    /// columns is compared as a multiset with a note instead of failing the diff. The value is
    /// the table's path, for the note's hint. Nil: the key was given for this table (`--key
    /// PATH=COL`, mlv.yaml), and a column it names must exist.
    public var globalKeyFor: String? = nil
    /// Memory for exact distinct counts (see `DistinctPool`), for the whole diff.
    public var distinctMemory = DistinctPool.defaultBudget
    /// Memory for exact medians (see `MedianPool`), for the whole diff.
    public var medianMemory = MedianPool.defaultBudget

    public init(key: [String] = [], rowSamples: Int = 5, driftThreshold: Double = 0.2) {
        self.key = key
        self.rowSamples = rowSamples
        self.driftThreshold = driftThreshold
    }
}

/// Compares two tables streamed from `open(side)` (called again when a side must be read a
/// second time, for samples). Rows are matched by the bytes of their shared cells (see
/// `matchRows`): memory holds the old table's shared cells (one partition of it for big
/// tables), never a hash standing in for them.
func diffTables(oldName: String, newName: String, separator: UInt8, options: TableDiffOptions,
                open: (_ newSide: Bool) throws -> ByteStream) throws -> TableDiff {
    try diffTables(oldName: oldName, newName: newName, format: .delimited(separator), options: options, open: open)
}

func diffTables(oldName: String, newName: String, format: TableFormat, options: TableDiffOptions,
                open: (_ newSide: Bool) throws -> ByteStream) throws -> TableDiff {
    func reader(_ newSide: Bool) throws -> RowSource {
        let name = newSide ? newName : oldName
        switch format {
        case .delimited(let sep): return try TableReader(stream: open(newSide), name: name, separator: sep, detectHeaderless: true)
        case .jsonLines: return try JSONLinesReader(open: { try open(newSide) }, name: name)
        }
    }
    let a = try reader(false)
    let b = try reader(true)
    let ha = a.header, hb = b.header
    // Columns are matched by name and occurrence (the 2nd `v` of one version with the 2nd
    // `v` of the other), so a repeated name never borrows another column's values. Position
    // lookups go through dictionaries, so that every per-column step below is linear in the
    // width (array searches per column made a 100,000-column diff take minutes).
    let idsA = columnIDs(ha), idsB = columnIDs(hb)
    let labelsA = columnLabels(ha), labelsB = columnLabels(hb)
    let indexA = Dictionary(uniqueKeysWithValues: idsA.enumerated().map { ($1, $0) })
    let indexB = Dictionary(uniqueKeysWithValues: idsB.enumerated().map { ($1, $0) })
    var options = options
    var notes: [String] = []
    var lacked: DiffError? = nil
    if let path = options.globalKeyFor {
        // One dataset without the global key does not stop the review of the others.
        let lacking = [(oldName, ha), (newName, hb)].compactMap { name, header -> String? in
            let absent = options.key.filter { !header.contains($0) }
            guard !absent.isEmpty else { return nil }
            return "\(name) has no column \(absent.map(\.debugDescription).joined(separator: ", ")) (columns: \(DiffError.columnList(header)))"
        }
        if !lacking.isEmpty {
            let (name, header) = options.key.contains(where: { !ha.contains($0) }) ? (oldName, ha) : (newName, hb)
            lacked = .unknownKey(file: name, column: options.key.first { !header.contains($0) } ?? "", columns: header)
            notes.append("compared as a multiset, not by --key \(options.key.joined(separator: ",")): \(lacking.joined(separator: "; ")); "
                         + "give this table its own key with `--key \(shellQuote(path))=COLUMN`")
            options.key = []
        }
    }
    for k in options.key {
        try checkKeyColumn(k, header: ha, file: oldName)
        try checkKeyColumn(k, header: hb, file: newName)
    }
    // Shared columns in name order, so that a reordering alone changes no row.
    let sharedSet = Set(idsA).intersection(idsB)
    let sharedIDs = sharedSet.sorted()
    let sharedA = sharedIDs.map { indexA[$0]! }
    let sharedB = sharedIDs.map { indexB[$0]! }
    let shared = sharedB.map { labelsB[$0] }
    let keyA = options.key.map { indexA[ColumnID(name: $0, occurrence: 0)]! }
    let keyB = options.key.map { indexB[ColumnID(name: $0, occurrence: 0)]! }
    let keyed = !options.key.isEmpty

    let pool = DistinctPool(budget: options.distinctMemory, spillDirectory: options.spillDirectory)
    let medians = MedianPool(budget: options.medianMemory)
    var profilesA = ColumnProfile.columns(ha.count, pool: pool, medians: medians)
    var profilesB = ColumnProfile.columns(hb.count, pool: pool, medians: medians)
    var rowsA = 0, rowsB = 0, dupA = 0, dupB = 0, added = 0, removed = 0, modified = 0, cellsChanged = 0
    var addedSample: [[String: String]] = []
    var removedSample: [[String: String]] = []
    var modifiedRows: [TableDiff.ModifiedRow] = []
    let r = try matchRows(a: a, b: b, reopen: reader, keyA: keyA, keyB: keyB, sharedA: sharedA, sharedB: sharedB,
                          shared: shared, options: options, profilesA: &profilesA, profilesB: &profilesB)
    (rowsA, rowsB, dupA, dupB, added, removed, modified, cellsChanged) = (r.rowsA, r.rowsB, r.dupA, r.dupB, r.added, r.removed, r.modified, r.cellsChanged)
    (addedSample, removedSample, modifiedRows) = (r.addedSample, r.removedSample, r.modifiedRows)

    // Schema and per-column statistics.
    for i in profilesA.indices { profilesA[i].finishMedian() }
    for i in profilesB.indices { profilesB[i].finishMedian() }
    var typeChanged: [TableDiff.TypeChange] = []
    var stats: [TableDiff.ColumnDelta] = []
    var maxDrift: Double? = nil
    let addedIDs = idsB.filter { indexA[$0] == nil }, removedIDs = idsA.filter { indexB[$0] == nil }
    for id in idsA + addedIDs {
        let ia = indexA[id], ib = indexB[id]
        let pa = ia.map { profilesA[$0] }
        let pb = ib.map { profilesB[$0] }
        let position = ib ?? ia ?? 0
        let label = ib.map { labelsB[$0] } ?? ia.map { labelsA[$0] } ?? id.name
        var drift: Double? = nil
        var histogram: TableDiff.Histogram? = nil
        if let pa, let pb {
            // PSI over a handful of values is noise (1 row → 2 rows gave 17.7): below the
            // minimum on either side the column has no drift, and a drift() gate no value.
            let enough = pa.count >= minimumDriftValues && pb.count >= minimumDriftValues
            if pa.type != pb.type && pa.type != .empty && pb.type != .empty {
                typeChanged.append(.init(column: label, index: position, old: pa.type, new: pb.type))
            }
            let numeric = [ColumnType.integer, .float].contains(pa.type) && [ColumnType.integer, .float].contains(pb.type)
            if enough {
                drift = numeric ? numericPSI(pa.sample.values, pb.sample.values)
                                : categoricalPSI(pa.categories, pa.otherCategories, pb.categories, pb.otherCategories)
            }
            if numeric { histogram = makeHistogram(pa.sample.values, pb.sample.values) }
            if let d = drift { maxDrift = max(maxDrift ?? d, d) }
        }
        stats.append(.init(column: label, index: position,
                           old: try ia.flatMap { i in try pa?.stats(index: i) }, new: try ib.flatMap { i in try pb?.stats(index: i) },
                           drift: drift, drifted: (drift ?? 0) > options.driftThreshold, histogram: histogram))
    }
    let sharedInOrderA = idsA.filter { sharedSet.contains($0) }, sharedInOrderB = idsB.filter { sharedSet.contains($0) }
    return TableDiff(
        rows: .init(keyed: keyed, key: options.key, old: rowsA, new: rowsB, added: added, removed: removed,
                    modified: modified, duplicateKeysOld: dupA, duplicateKeysNew: dupB),
        cellsChanged: cellsChanged,
        columns: .init(added: addedIDs.map { labelsB[indexB[$0]!] }, removed: removedIDs.map { labelsA[indexA[$0]!] },
                       typeChanged: typeChanged, reordered: sharedInOrderA != sharedInOrderB),
        stats: stats, modifiedRows: modifiedRows, addedSample: addedSample, removedSample: removedSample,
        maxDrift: maxDrift, notes: notes.isEmpty ? nil : notes, lackedGlobalKey: lacked)
}

/// Non-null values a column needs on both sides for its drift to be computed (and flagged).
public let minimumDriftValues = 100

/// A column's identity in a diff: its name and which occurrence of that name it is in its
/// header (`id,v,v` has `v` #0 and `v` #1).
struct ColumnID: Hashable, Comparable {
    let name: String
    let occurrence: Int
    static func < (x: ColumnID, y: ColumnID) -> Bool { (x.name, x.occurrence) < (y.name, y.occurrence) }
}

func columnIDs(_ header: [String]) -> [ColumnID] {
    var seen: [String: Int] = [:]
    return header.map { n in
        let k = seen[n, default: 0]
        seen[n] = k + 1
        return ColumnID(name: n, occurrence: k)
    }
}

/// What reports call the columns of a header: the name, or for a name the header repeats,
/// `name (column N)` with N the 1-based position, so that no two columns read alike.
func columnLabels(_ header: [String]) -> [String] {
    var counts: [String: Int] = [:]
    for n in header { counts[n, default: 0] += 1 }
    return header.enumerated().map { i, n in (counts[n] ?? 0) > 1 ? "\(n) (column \(i + 1))" : n }
}

/// A key column must be in the header exactly once: a repeated name would key rows by one of
/// two columns, unsaid.
func checkKeyColumn(_ k: String, header: [String], file: String) throws {
    let n = header.lazy.filter { $0 == k }.count
    if n == 0 { throw DiffError.unknownKey(file: file, column: k, columns: header) }
    if n > 1 { throw DiffError.ambiguousKey(file: file, column: k, count: n) }
}

/// Shares of two samples in 20 equal-width bins over their joint range.
func makeHistogram(_ a: [Double], _ b: [Double]) -> TableDiff.Histogram? {
    guard !a.isEmpty, !b.isEmpty, let lo = (a + b).min(), let hi = (a + b).max(), hi > lo else { return nil }
    let bins = 20
    let width = (hi - lo) / Double(bins)
    func shares(_ xs: [Double]) -> [Double] {
        var h = [Double](repeating: 0, count: bins)
        for x in xs { h[min(bins - 1, Int((x - lo) / width))] += 1 }
        return h.map { $0 / Double(xs.count) }
    }
    return TableDiff.Histogram(edges: (0...bins).map { lo + Double($0) * width }, old: shares(a), new: shares(b))
}

/// The current row as column label (see `columnLabels`) -> value, for samples.
func record(_ r: RowSource) -> [String: String] {
    var out: [String: String] = [:]
    for (i, name) in columnLabels(r.header).enumerated() { out[name] = r.string(i) }
    return out
}
