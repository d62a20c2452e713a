// Run records: what one successful run of a stage consumed and produced, committed as
// `mlv-runs/<stage>.json`, their metrics, and reading and writing them in the working tree.
import MLVSystem
import Foundation
import MLVStore

/// What one successful run of a stage consumed and produced. Committed as
/// `mlv-runs/<stage>.json` (sorted keys, so records diff and merge like code; each metrics
/// file's metrics in the file's order, each number as the file wrote it). Written by
/// `JSONOutput` and read by `JSONReader` (`init(json:)`): JSONEncoder and JSONDecoder cannot
/// carry a number's text. The format is described in mlv-store(5), RUN RECORDS.
public struct RunRecord: Encodable, Sendable, Equatable {
    public var stage: String
    /// SHA-256 of the stage's canonical definition.
    public var definition: String
    /// SHA-256 over definition, inputs and params: the run cache key.
    public var fingerprint: String
    public var command: [String]
    public var inputs: [String: String]          // path -> snapshot id (SHA-256 of a file's bytes for untracked code)
    /// FILE:KEY -> the value as the file wrote it. A declared section is recorded key by key
    /// (`params.yaml:train` as `params.yaml:train.lr`, `params.yaml:train.seed`, ...), a null
    /// or an empty section as `null`, `{}` or `[]` (see `paramValues`).
    public var params: [String: String]
    public var environment: [String: String]
    public var tools: [String: String]           // command -> its --version line
    public var outputs: [String: String]         // path -> snapshot id
    public var metrics: RunMetrics
    public var durationSeconds: Double
    public var exitCode: Int32

    enum CodingKeys: String, CodingKey {
        case stage, definition, fingerprint, command, inputs, params, environment, tools, outputs, metrics
        case durationSeconds = "duration_seconds"
        case exitCode = "exit_code"
    }

    init(stage: String, definition: String, fingerprint: String, command: [String], inputs: [String: String],
         params: [String: String], environment: [String: String], tools: [String: String], outputs: [String: String],
         metrics: RunMetrics, durationSeconds: Double, exitCode: Int32) {
        self.stage = stage; self.definition = definition; self.fingerprint = fingerprint; self.command = command
        self.inputs = inputs; self.params = params; self.environment = environment; self.tools = tools
        self.outputs = outputs; self.metrics = metrics; self.durationSeconds = durationSeconds; self.exitCode = exitCode
    }

    /// A record as mlv wrote it; nil for anything else (a record in the working tree or the
    /// run cache is only read to skip work, and a damaged one means the stage runs again).
    public init?(json bytes: [UInt8]) {
        guard let r = try? RunRecord(parsing: bytes) else { return nil }
        self = r
    }

    /// Why bytes are not a run record: the line (0 when the shape, not the syntax, is wrong).
    struct Invalid: Error { var line: Int; var why: String }

    /// A record read strictly, saying what is wrong with anything else.
    init(parsing bytes: [UInt8]) throws {
        let v: JSONValue
        do throws(JSONSyntaxError) { v = try JSONReader.parse(bytes) } catch {
            throw Invalid(line: error.line, why: "not valid JSON: \(error.why)")
        }
        guard case .object = v else { throw Invalid(line: 1, why: "not a JSON object") }
        func missing(_ k: CodingKeys, _ what: String) -> Invalid { Invalid(line: 0, why: "\(k.rawValue) is missing or not \(what)") }
        func string(_ k: CodingKeys) throws -> String {
            guard let s = v[k.rawValue]?.string else { throw missing(k, "a string") }
            return s
        }
        func strings(_ k: CodingKeys) throws -> [String: String] {
            guard case .object(let o)? = v[k.rawValue] else { throw missing(k, "an object of strings") }
            var out: [String: String] = [:]
            for (key, x) in o { guard let s = x.string else { throw missing(k, "an object of strings") }; out[key] = s }
            return out
        }
        guard case .array(let cmd)? = v["command"], case let command = cmd.compactMap(\.string), command.count == cmd.count
        else { throw missing(.command, "a list of strings") }
        guard case .object(let m)? = v["metrics"] else { throw missing(.metrics, "an object") }
        guard case .number(let duration)? = v["duration_seconds"] else { throw missing(.durationSeconds, "a number") }
        guard case .number(let exit)? = v["exit_code"], let exitCode = Int32(exit.text) else { throw missing(.exitCode, "an integer") }
        func ordered(_ entries: [(key: String, value: JSONValue)]) -> OrderedMetrics {
            var out = OrderedMetrics()
            for (k, x) in entries { out[k] = MetricValue(x, mlvJSON: true) }
            return out
        }
        // Per file (objects of objects), or a record from before that: one flat object of
        // values (never objects: mlv flattened every file's keys). `{}` is either, the same.
        let metrics: RunMetrics
        if m.isEmpty || m.contains(where: { if case .object = $0.value { return true } else { return false } }) {
            var files: [String: OrderedMetrics] = [:]
            for (file, x) in m {
                guard case .object(let entries) = x else { throw missing(.metrics, "an object of metrics files, each an object of metrics") }
                files[file] = ordered(entries)
            }
            metrics = .byFile(files)
        } else {
            metrics = .flat(ordered(m))
        }
        self.init(stage: try string(.stage), definition: try string(.definition), fingerprint: try string(.fingerprint),
                  command: command, inputs: try strings(.inputs), params: try strings(.params),
                  environment: try strings(.environment), tools: try strings(.tools), outputs: try strings(.outputs),
                  metrics: metrics, durationSeconds: duration.value, exitCode: exitCode)
    }
}

/// A run's metrics, per metrics file: `{"train.json": {...}, "test.json": {...}}`, the files'
/// paths sorted and each file's metrics in its own order (two files of one stage often share
/// keys, `acc` in both). Records written before mlv kept them apart hold one flat object
/// (`flat`: a key of two files holds the value of the file read last, in the place of the
/// first); they are read, and written back, as they are, so committed ones still verify and
/// restore byte for byte.
public enum RunMetrics: Sendable, Equatable, Encodable {
    case byFile([String: OrderedMetrics])
    case flat(OrderedMetrics)

    public func encode(to encoder: any Encoder) throws {
        // Through the single-value container, each kind keeps its own key order.
        var c = encoder.singleValueContainer()
        switch self {
        case .byFile(let files): try c.encode(files)
        case .flat(let m): try c.encode(m)
        }
    }

    /// The one flat object an earlier mlv wrote for these metrics: `files` (the stage's
    /// metrics files) in order, a later file's key replacing an earlier one's value.
    func flattened(order files: [String]) -> OrderedMetrics {
        switch self {
        case .flat(let m):
            return m
        case .byFile(let byFile):
            var out = OrderedMetrics()
            for f in files + byFile.keys.sorted().filter({ !files.contains($0) }) {
                for (k, v) in byFile[f]?.entries ?? [] { out[k] = v }
            }
            return out
        }
    }

    /// The metrics of two runs of `stage` compared, file by file (`file` is the metrics file);
    /// with a flat record on either side, key by key as that record holds them (`file` is the
    /// stage). `files`: the stage's metrics files, in order.
    func changes(to new: RunMetrics, stage: String, files: [String]) -> [MetricChange] {
        if case .byFile(let a) = self, case .byFile(let b) = new {
            return Set(a.keys).union(b.keys).sorted().flatMap { f in
                compareMetrics(file: f, old: a[f]?.dictionary ?? [:], new: b[f]?.dictionary ?? [:])
            }
        }
        return compareMetrics(file: stage, old: flattened(order: files).dictionary, new: new.flattened(order: files).dictionary)
    }
}

extension Workspace {
    static let runsDir = "mlv-runs"

    public func runRecord(_ stage: String) -> RunRecord? {
        guard let bytes = try? tree.read("\(Workspace.runsDir)/\(stage).json") else { return nil }
        return RunRecord(json: bytes)
    }

    /// The bytes of a run record file: the one encoding, used for mlv-runs/STAGE.json and for
    /// the run cache entry alike, so that a restore writes back exactly what the run wrote.
    static func encodeRunRecord(_ r: RunRecord) throws -> [UInt8] {
        try JSONOutput.encode(r, pretty: true) + [0x0A]
    }

    func writeRunRecord(_ r: RunRecord) throws {
        try writeRunRecord(stage: r.stage, bytes: Workspace.encodeRunRecord(r))
    }

    /// Writes a record's bytes as they are (a restored record is never re-encoded: a decode and
    /// encode round trip need not give the same bytes, and the committed ones are the truth).
    func writeRunRecord(stage: String, bytes: [UInt8]) throws {
        let path = absolute("\(Workspace.runsDir)/\(stage).json")
        // A committed `mlv-runs -> /elsewhere` must not carry the record (or what is staged
        // from the folder) outside the tree.
        try tree.checkParents(path)
        if (try? FS.readAll(path)) == bytes { return }   // unchanged: not even its mtime moves
        try FS.makeDirectories(absolute(Workspace.runsDir))
        try FS.atomicWrite(bytes, to: path)
    }
}
