import MLVSystem
import MLVStore

/// `mlv stage add` and `mlv stage remove`: the pipeline's stages in mlv.yaml.
public struct Stages {
    public let workspace: Workspace

    public init(_ workspace: Workspace) { self.workspace = workspace }

    private var ws: Workspace { workspace }

    /// `mlv stage add`: adds (or with `replace`, redefines) a stage, validating the whole
    /// pipeline first, and stages mlv.yaml in git.
    public func addStage(_ name: String, _ stage: Stage, replace: Bool) throws {
        guard Config.isValidName(name) else {
            throw PipelineError.badStage(name, why: "names use letters, digits, '-' and '_'")
        }
        if ws.config.stages[name] != nil && !replace {
            throw PipelineError.badStage(name, why: "already defined; add --force to redefine it, or `mlv stage remove \(name)` first")
        }
        var s = stage
        s.deps = try s.deps.map { try ws.userPath($0) }
        s.outs = try s.outs.map { try ws.userPath($0) }
        s.metrics = try s.metrics.map { try ws.userPath($0) }
        var stages = ws.config.stages
        stages[name] = s
        _ = try Pipeline(stages, root: ws.root)
        // Declared params in a file that is there now: every key must be in it (a file not
        // written yet is checked by `mlv repro`).
        _ = try Runner(ws).paramValues(s.params.filter { p in paramSpec(p).map { FS.exists(ws.absolute($0.file)) } ?? false }, stage: name)
        ws.config.stages = stages
        try ws.config.save(path: ws.configPath)
        try ws.stageInGit([Config.fileName])
    }

    public func removeStage(_ name: String) throws {
        guard ws.config.stages[name] != nil else { throw PipelineError.unknownStage(name, known: ws.config.stages.keys.sorted()) }
        ws.config.stages[name] = nil
        try ws.config.save(path: ws.configPath)
        try ws.stageInGit([Config.fileName])
    }
}
