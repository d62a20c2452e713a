// What `mlv diff` returns: the report (`DiffReport`), one entry per changed target
// (`TargetDiff`) with the typed result of its comparison (a table, files, features, chunk
// reuse, tensors), and the options a diff takes (`DiffOptions`). The comparison itself:
// DiffEngine.swift (the walk over targets), Comparison.swift (which comparison a target gets).

/// How an entry inside a target differs (a file of a folder, a feature definition):
/// `ChangeKind`'s words, plus renamed (the same content or definition under another name).
public enum EntryChangeKind: String, Sendable, Codable, CaseIterable {
    case added, removed, modified, renamed
}

/// A file inside a folder target that changed.
public struct FileChange: Codable, Sendable {
    public var path: String
    public var change: EntryChangeKind
    public var from: String?           // renamed: the old path
    public var oldSize: UInt64?
    public var newSize: UInt64?

    enum CodingKeys: String, CodingKey {
        case path, change, from
        case oldSize = "old_size"
        case newSize = "new_size"
    }
}

/// A model (or any binary) compared at the chunk level: how much of the new version is in
/// stored chunks (content-defined, about 64 KiB each) the old version already had. That is
/// chunk reuse, not a byte-by-byte comparison: a file of one chunk shares nothing with its
/// old version after any edit, however small.
public struct BinaryDiff: Codable, Sendable {
    /// Bytes of the new version found in chunks the old version already had.
    public var reusedBytes: UInt64
    /// Bytes of the new version in chunks the old version did not have.
    public var newBytes: UInt64
    /// reusedBytes / (reusedBytes + newBytes); 1 for an empty file.
    public var reusedShare: Double
    /// Chunks of the new version, and how many of them the old version had.
    public var chunks: Int
    public var reusedChunks: Int

    enum CodingKeys: String, CodingKey {
        case chunks
        case reusedBytes = "reused_bytes"
        case newBytes = "new_bytes"
        case reusedShare = "reused_share"
        case reusedChunks = "reused_chunks"
    }
}

public struct TargetDiff: Codable, Sendable {
    public var path: String
    public var kind: TargetKind
    public var change: ChangeKind
    public var oldSnapshot: String?
    public var newSnapshot: String?
    public var oldSize: UInt64?
    public var newSize: UInt64?
    public var files: [FileChange]
    public var table: TableDiff?
    public var tables: [String: TableDiff]   // CSV files changed inside a folder target
    public var binary: BinaryDiff?
    public var features: FeaturesDiff?
    public var tensors: SafetensorsDiff?
    /// What could not be compared in detail, one line each naming the file, line and problem
    /// (a table that does not parse — a ragged row, an unclosed quote — or past
    /// `TableLimits`, a safetensors header past its limits): the diff shows a byte-level
    /// summary instead, and the rest of the report stands.
    public var warnings: [String]? = nil
    /// Tables of this target that could not be compared (the target's path, or files in the
    /// folder): a `drift(...)` gate over them has no value (not in JSON: `warnings` says it).
    public var uncomparedTables: [String] = []
    /// Rows × columns of a table target that was added or removed, from its pointer (a
    /// modified one's are in `table`).
    public var shape: Shape? = nil

    public struct Shape: Codable, Sendable {
        public var rows: UInt64
        public var columns: UInt64
    }

    /// What JSON holds. Every stored property is listed except those said to be "not in JSON"
    /// (`DiffDispatchTests` checks: a new field missing here would vanish from JSON silently).
    enum CodingKeys: String, CodingKey, CaseIterable {
        case path, kind, change, files, table, tables, binary, features, tensors, warnings, shape
        case oldSnapshot = "old_snapshot"
        case newSnapshot = "new_snapshot"
        case oldSize = "old_size"
        case newSize = "new_size"
    }
}

public struct DiffReport: Codable, Sendable {
    public var from: String
    public var to: String
    public var targets: [TargetDiff]
    public var metrics: [MetricChange]
    public var params: [MetricChange]
    /// Every target either side tracks, changed or not: what a gate may name (not in JSON;
    /// nil for a report made elsewhere than `diff`, whose sides are unknown).
    public var tracked: Set<String>? = nil

    enum CodingKeys: String, CodingKey { case from, to, targets, metrics, params }

    public init(from: String, to: String, targets: [TargetDiff], metrics: [MetricChange], params: [MetricChange]) {
        self.from = from
        self.to = to
        self.targets = targets
        self.metrics = metrics
        self.params = params
    }

    /// True when anything differs.
    public var hasChanges: Bool {
        !targets.isEmpty || metrics.contains { $0.old != $0.new } || params.contains { $0.old != $0.new }
    }
}

public struct DiffOptions: Sendable {
    public var from: String?           // nil: HEAD
    public var to: String?             // nil: the working tree
    public var paths: [String] = []
    public var table = TableDiffOptions()
    /// Keys given for one dataset (`--key PATH=COL[,COL]`, PATH as typed): they win over the
    /// global `table.key`, and a column they name must exist.
    public var keys: [String: [String]] = [:]
    /// Only metrics and params (mlv metrics/params diff).
    public var onlyKinds: Set<TargetKind>? = nil

    public init(from: String? = nil, to: String? = nil, paths: [String] = [], table: TableDiffOptions = TableDiffOptions(),
                onlyKinds: Set<TargetKind>? = nil) {
        self.from = from
        self.to = to
        self.paths = paths
        self.table = table
        self.onlyKinds = onlyKinds
    }
}
