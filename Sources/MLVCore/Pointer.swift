import MLVSystem
import MLVStore

/// What a target holds; decides how `diff` and `log` present it.
public enum TargetKind: String, CaseIterable, Sendable, Codable {
    case dataset, features, model, metrics, params

    /// Metrics and params are small text that reviewers read in the pull request: they stay
    /// in git itself and mlv only records their kind in mlv.yaml.
    public var livesInGit: Bool { self == .metrics || self == .params }

    /// Guesses the kind from a path: extensions ML tools use, then names.
    public static func infer(path: String, isDirectory: Bool) -> TargetKind {
        let name = FS.basename(path).lowercased()
        let ext = name.split(separator: ".").count > 1 ? String(name.split(separator: ".").last!) : ""
        if name.contains("feature") && ["yaml", "yml", "json", "py", "sql"].contains(ext) { return .features }
        if name.hasPrefix("metrics") || name.contains("scores") { return .metrics }
        if name.hasPrefix("params") || name.hasPrefix("hyperparams") { return .params }
        let modelExts: Set<String> = ["safetensors", "pt", "pth", "onnx", "bin", "pkl", "pickle", "joblib", "h5",
                                      "hdf5", "ckpt", "keras", "pb", "tflite", "gguf", "mlmodel", "model"]
        if modelExts.contains(ext) { return .model }
        if isDirectory && (name.hasPrefix("model") || name.hasPrefix("checkpoint")) { return .model }
        // Anything kept in a models/ or checkpoints/ folder (a model saved as JSON included).
        let folders = path.lowercased().split(separator: "/").dropLast()
        if folders.contains(where: { ["model", "models", "checkpoint", "checkpoints"].contains($0) }) { return .model }
        return .dataset
    }
}

/// The pointer file `<target>.mlv` that git versions in place of the data. Small,
/// deterministic `key: value` text, one target per file so two branches that change
/// different targets merge without conflict:
///
///     # mlv pointer: git versions this file, mlv keeps the data (mlv help pointer)
///     version: 1
///     kind: dataset
///     type: file            file | dir
///     mode: 644             file only: 644 or 755
///     snapshot: <64 hex>    absent until the first commit
///     size: 1074978071      bytes of data
///     files: 1              regular files in the target
///     rows: 10000000        tabular datasets: data rows as `mlv diff` reads them (records,
///                           blank lines and a header left out; see `tableShape`)
///     columns: 12           tabular datasets: header fields, JSON Lines' distinct keys
public struct Pointer: Equatable, Sendable {
    public enum TargetType: String, Sendable { case file, dir }

    public var kind: TargetKind
    public var type: TargetType
    public var executable = false
    public var snapshot: ObjectID?
    public var size: UInt64 = 0
    public var files: UInt64 = 0
    public var rows: UInt64?
    public var columns: UInt64?

    public static let suffix = ".mlv"
    /// A pointer is a few lines; anything bigger is not one (and is never read whole).
    public static let maxBytes = 64 * 1024
    static let header = "# mlv pointer: git versions this file, mlv keeps the data (see `man mlv-store`)"

    public init(kind: TargetKind, type: TargetType) {
        self.kind = kind
        self.type = type
    }

    public static func pointerPath(for target: String) -> String { target + suffix }

    public func encoded() -> String {
        var lines = [Pointer.header, "version: 1", "kind: \(kind.rawValue)", "type: \(type.rawValue)"]
        if type == .file { lines.append("mode: \(executable ? "755" : "644")") }
        if let s = snapshot {
            lines.append("snapshot: \(s.hex)")
            lines.append("size: \(size)")
            lines.append("files: \(files)")
            if let r = rows { lines.append("rows: \(r)") }
            if let c = columns { lines.append("columns: \(c)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses a pointer; every problem is reported with its line number.
    public init(parsing bytes: [UInt8], path: String) throws {
        guard bytes.count <= Pointer.maxBytes, let text = String(validating: bytes, as: UTF8.self) else {
            throw MLVError.badPointer(path: path, line: 1, why: "not a pointer file (binary or too large)")
        }
        var fields: [String: (String, Int)] = [:]
        var lineNo = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw MLVError.badPointer(path: path, line: lineNo, why: "expected `key: value`, found \(String(line.prefix(40)).debugDescription)")
            }
            let key = String(line[..<colon]).trimmed
            let value = String(line[line.index(after: colon)...]).trimmed
            if fields[key] != nil { throw MLVError.badPointer(path: path, line: lineNo, why: "duplicate key \(key)") }
            fields[key] = (value, lineNo)
        }
        func need(_ k: String) throws -> (String, Int) {
            guard let v = fields.removeValue(forKey: k) else {
                throw MLVError.badPointer(path: path, line: lineNo, why: "missing `\(k):`")
            }
            return v
        }
        func number(_ k: String) throws -> UInt64? {
            guard let (v, l) = fields.removeValue(forKey: k) else { return nil }
            guard let n = UInt64(v) else { throw MLVError.badPointer(path: path, line: l, why: "\(k) must be a whole number, found \(v.debugDescription)") }
            return n
        }
        let (version, vl) = try need("version")
        guard version == "1" else {
            throw MLVError.badPointer(path: path, line: vl, why: "pointer version \(version) is not supported by this mlv (1); upgrade mlv")
        }
        let (k, kl) = try need("kind")
        guard let kind = TargetKind(rawValue: k) else {
            throw MLVError.badPointer(path: path, line: kl, why: "unknown kind \(k.debugDescription) (dataset, features, model, metrics, params)")
        }
        let (t, tl) = try need("type")
        guard let type = TargetType(rawValue: t) else {
            throw MLVError.badPointer(path: path, line: tl, why: "unknown type \(t.debugDescription) (file or dir)")
        }
        self.kind = kind
        self.type = type
        if let (m, ml) = fields.removeValue(forKey: "mode") {
            guard type == .file, m == "644" || m == "755" else {
                throw MLVError.badPointer(path: path, line: ml, why: "mode must be 644 or 755 on a file target")
            }
            executable = m == "755"
        }
        if let (s, sl) = fields.removeValue(forKey: "snapshot") {
            guard let id = ObjectID(hex: s) else {
                throw MLVError.badPointer(path: path, line: sl, why: "snapshot must be 64 hex digits")
            }
            snapshot = id
        }
        size = try number("size") ?? 0
        files = try number("files") ?? 0
        rows = try number("rows")
        columns = try number("columns")
        if let (key, (_, l)) = fields.min(by: { $0.value.1 < $1.value.1 }) {
            let known = ["version", "kind", "type", "mode", "snapshot", "size", "files", "rows", "columns"]
            throw MLVError.badPointer(path: path, line: l, why: "unknown key '\(key)'" + (Suggest.nearest(key, among: known).map { "; did you mean '\($0)'?" } ?? ""))
        }
    }
}
