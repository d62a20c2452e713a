// mlv.yaml: the committed configuration (compression, metrics and params files, stages,
// remotes), checked against its schema when read (YAMLSchema) and written with sorted keys.
import MLVSystem
import MLVStore
import Yams

public struct RemoteSettings: Codable, Equatable, Sendable {
    public var url: String
    public var endpoint: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case url, endpoint }
}

public struct TargetSettings: Codable, Equatable, Sendable {
    public var key: [String]?
    public var inputs: [String]?

    enum CodingKeys: String, CodingKey, CaseIterable { case key, inputs }
}

/// The committed configuration, `mlv.yaml` at the repository root. Written with sorted keys
/// so that it diffs and merges well:
///
///     version: 1
///     compression_level: 1        zstd level for new chunks (1 fastest .. 19 smallest)
///     metrics: [metrics.json]     metrics files kept in git, diffed by `mlv diff`
///     params: [params.yaml]       params files kept in git
///     targets:                    optional per-target settings
///       data/train.csv: {key: [id]}                       key columns for mlv diff
///       models/model.bin: {inputs: [features/f.yaml]}     what the model is trained from
public struct Config: Codable, Equatable, Sendable {
    public var version: Int = 1
    public var compressionLevel: Int = Config.defaultCompressionLevel
    public var metrics: [String] = []
    public var params: [String] = []
    /// Per-target settings: a dataset's key columns for `mlv diff`, a model's inputs (the
    /// datasets and feature definitions it is trained from, for "models to retrain").
    public var targets: [String: TargetSettings] = [:]
    /// The pipeline: stages by name (see Run/Pipeline.swift and mlv-config(5)).
    public var stages: [String: Stage] = [:]
    /// Remotes by name (URLs only, never credentials) and the default one.
    public var remotes: [String: RemoteSettings] = [:]
    public var defaultRemote: String?

    /// Level 1 measured fastest at a ratio close to level 3 on CSV (2.42 vs 2.56 when this
    /// default was chosen), and speed is what a commit of a 1 GiB file waits on.
    public static let defaultCompressionLevel = 1
    public static let fileName = "mlv.yaml"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case version
        case compressionLevel = "compression_level"
        case metrics, params, targets, stages, remotes
        case defaultRemote = "default_remote"
    }

    public init() {}

    /// What mlv.yaml may hold: exactly the keys the decoder reads, each with its shape. An
    /// unknown key anywhere is a typo (`stage:` for `stages:` would otherwise mean "no
    /// stages"), reported with its line and the nearest known key.
    static var shape: YAMLShape {
        .record(of: CodingKeys.self) { key in
            switch key {
            case .version, .compressionLevel: return .int
            case .metrics, .params: return .list(.string)
            case .targets:
                return .map(.record(of: TargetSettings.CodingKeys.self) { k in
                    switch k { case .key, .inputs: return .list(.string) }
                })
            case .stages: return .map(Stage.shape)
            case .remotes:
                return .map(.record(of: RemoteSettings.CodingKeys.self) { k in
                    switch k { case .url, .endpoint: return .string }
                })
            case .defaultRemote: return .string
            }
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        version = try c.decodeIfPresent(Int.self, forKey: .version) ?? 1
        compressionLevel = try c.decodeIfPresent(Int.self, forKey: .compressionLevel) ?? Config.defaultCompressionLevel
        metrics = try c.decodeIfPresent([String].self, forKey: .metrics) ?? []
        params = try c.decodeIfPresent([String].self, forKey: .params) ?? []
        targets = try c.decodeIfPresent([String: TargetSettings].self, forKey: .targets) ?? [:]
        stages = try c.decodeIfPresent([String: Stage].self, forKey: .stages) ?? [:]
        remotes = try c.decodeIfPresent([String: RemoteSettings].self, forKey: .remotes) ?? [:]
        defaultRemote = try c.decodeIfPresent(String.self, forKey: .defaultRemote)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(version, forKey: .version)
        try c.encode(compressionLevel, forKey: .compressionLevel)
        try c.encode(metrics, forKey: .metrics)
        try c.encode(params, forKey: .params)
        if !targets.isEmpty { try c.encode(targets, forKey: .targets) }
        if !stages.isEmpty { try c.encode(stages, forKey: .stages) }
        if !remotes.isEmpty { try c.encode(remotes, forKey: .remotes) }
        try c.encodeIfPresent(defaultRemote, forKey: .defaultRemote)
    }

    /// Parses and validates config text (from the working tree, or a commit's blob).
    public static func parse(_ bytes: [UInt8]) throws -> Config {
        let text = String(decoding: bytes, as: UTF8.self)
        let config = try YAMLSchema.decode(Config.self, from: text, shape: Config.shape) { line, column, why in
            MLVError.badConfig(path: Config.fileName, line: line, column: column, why: why)
        }
        guard config.version == 1 else {
            throw MLVError.badConfig(path: Config.fileName, why: "config version \(config.version) is newer than this mlv understands (1); upgrade mlv")
        }
        guard (1...19).contains(config.compressionLevel) else {
            throw MLVError.badConfig(path: Config.fileName, why: "compression_level must be between 1 and 19, found \(config.compressionLevel)")
        }
        try config.validatePaths()
        return config
    }

    /// Every path the file names must be a repository path (`RepoPath.validate`: relative, no
    /// `..`, not inside .git or .mlv), checked here once for every command: a committed
    /// mlv.yaml comes from whoever wrote the repository, and `metrics: [../../.aws/credentials]`
    /// must not make `mlv metrics show` print a file outside it.
    func validatePaths() throws {
        for name in stages.keys where !Config.isValidName(name) {
            throw MLVError.badConfig(path: Config.fileName, why: "stage name \(name.debugDescription) must use letters, digits, '-' and '_' (it names files in mlv-runs/)")
        }
        for name in remotes.keys where !Config.isValidName(name) {
            throw MLVError.badConfig(path: Config.fileName, why: "remote name \(name.debugDescription) must use letters, digits, '-' and '_'")
        }
        func check(_ field: String, _ path: String) throws {
            do { try RepoPath.validate(path, source: path) } catch {
                throw MLVError.badConfig(path: Config.fileName, why: "\(field): \(path.debugDescription) is not a path inside the repository (relative, without `..`, outside .git and .mlv)")
            }
        }
        for p in metrics { try check("metrics", p) }
        for p in params { try check("params", p) }
        for (t, s) in targets {
            try check("targets", t)
            for p in s.inputs ?? [] { try check("targets.\(t).inputs", p) }
        }
        for (name, s) in stages {
            for p in s.deps { try check("stages.\(name).deps", p) }
            for p in s.outs { try check("stages.\(name).outs", p) }
            for p in s.metrics { try check("stages.\(name).metrics", p) }
            for p in s.params { if let (file, _) = paramSpec(p) { try check("stages.\(name).params", file) } }
        }
    }

    public func save(path: String) throws {
        let encoder = YAMLEncoder()
        encoder.options.sortKeys = true
        let body = try encoder.encode(self)
        let text = "# mlv configuration: committed, shared by everyone who clones the repository (man mlv-config)\n" + body + (body.hasSuffix("\n") ? "" : "\n")
        try FS.atomicWrite(Array(text.utf8), to: path)
    }

    /// The rule for stage and remote names: letters, digits, '-' and '_'. A stage's name is a
    /// file name in mlv-runs/, and both are printed: no '/', '..' or control characters.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }

    /// The params files kept in git: those `mlv track --kind params` listed, and every FILE a
    /// stage's `params: [FILE:KEY]` reads, as DVC counts them: declaring a stage's params
    /// makes its file a params file for `diff`, `params diff`, `status` and `commit`, whole
    /// (every key in it is compared, not only the declared ones: a value the code reads but
    /// the stage forgot to declare shows up in review too). A file listed as metrics stays
    /// metrics. The one list every command reads.
    public var paramsFiles: [String] {
        let declared = stages.values.flatMap { $0.params.compactMap { paramSpec($0)?.file } }
        return Set(params + declared).subtracting(metrics).sorted()
    }

    /// Stages whose params come from `path` (sorted).
    public func stagesReadingParams(_ path: String) -> [String] {
        stages.filter { $0.value.params.contains { paramSpec($0)?.file == path } }.keys.sorted()
    }

    /// The kind recorded for a git-tracked metrics or params file.
    public func gitKind(of path: String) -> TargetKind? {
        if metrics.contains(path) { return .metrics }
        if paramsFiles.contains(path) { return .params }
        return nil
    }
}
