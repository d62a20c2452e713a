import MLVSystem
import MLVStore

extension Workspace {
    /// `mlv stage add`: adds (or with `replace`, redefines) a stage, validating the whole
    /// pipeline first, and stages mlv.yaml in git.
    public func addStage(_ name: String, _ stage: Stage, replace: Bool) throws {
        guard Config.isValidName(name) else {
            throw PipelineError.badStage(name, why: "names use letters, digits, '-' and '_'")
        }
        if config.stages[name] != nil && !replace {
            throw PipelineError.badStage(name, why: "already defined; add --force to redefine it, or `mlv stage remove \(name)` first")
        }
        var s = stage
        s.deps = try s.deps.map { try userPath($0) }
        s.outs = try s.outs.map { try userPath($0) }
        s.metrics = try s.metrics.map { try userPath($0) }
        var stages = config.stages
        stages[name] = s
        _ = try Pipeline(stages, root: root)
        // Declared params in a file that is there now: every key must be in it (a file not
        // written yet is checked by `mlv repro`).
        _ = try paramValues(s.params.filter { p in paramSpec(p).map { FS.exists(absolute($0.file)) } ?? false }, stage: name)
        config.stages = stages
        try config.save(path: configPath)
        try stageInGit([Config.fileName])
    }

    public func removeStage(_ name: String) throws {
        guard config.stages[name] != nil else { throw PipelineError.unknownStage(name, known: config.stages.keys.sorted()) }
        config.stages[name] = nil
        try config.save(path: configPath)
        try stageInGit([Config.fileName])
    }
}
