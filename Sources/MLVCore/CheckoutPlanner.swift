// The decisions of a whole-tree checkout (`mlv checkout [REV]`), made from facts gathered
// before anything moves: which target is left as it is, which is written, which goes, and
// which working data is uncommitted work (refused, or saved with --force). It reads and
// writes nothing itself: what it must ask of the disk or the store goes through
// `CheckoutWorld`, so unit tests drive it with plain values.
import MLVSystem
import MLVStore

/// What the planner asks of the working tree and the store, in the order it decides.
protocol CheckoutWorld {
    /// Checks a snapshot before any of it is written (limits, totals): `checkBeforePlacing`.
    func checkBeforeWriting(_ entry: TreeEntry, at path: String) throws
    /// The content of what lies where a target not tracked here is about to be written.
    func untrackedWork(at path: String, kind: TargetKind) throws -> WorkingSnapshot?
    /// Whether working content is recorded elsewhere (the store, or git), so replacing it loses
    /// nothing even though it is neither the pointer's nor what mlv last wrote there.
    func isRecorded(_ path: String, _ working: WorkingSnapshot) throws -> Bool
}

/// The facts a whole-tree checkout starts from.
struct CheckoutSituation {
    /// The pointers in the working tree now.
    var current: [(path: String, pointer: Pointer)]
    /// The pointers after the checkout (`pointersAfterSwitch`, or `current` without REV).
    var desired: [(path: String, pointer: Pointer)]
    /// Each current target's working state (`WorkingState`).
    var states: [String: WorkingState]
    /// What mlv last wrote at each target (the stat cache's `synced`).
    var synced: [String: ObjectID]
    /// A switch to another commit (REV given), not a checkout of the current pointers.
    var switching: Bool
    /// The pointer files the switch rewrites (differing between the commits).
    var switched: Set<String>
    var force: Bool
}

/// What a whole-tree checkout does, target by target.
struct CheckoutPlan {
    enum Step: Equatable {
        /// An uncommitted change the switch leaves alone (the commits do not differ there).
        case keep
        /// The data already matches the pointer.
        case unchanged(ObjectID)
        /// Written from the store.
        case update(TreeEntry)
        /// The pointer records no data yet: nothing to write.
        case noData
    }
    struct Target {
        var path: String
        var pointer: Pointer
        var step: Step
    }
    /// Every target after the checkout, in `desired`'s order.
    var targets: [Target] = []
    /// Working data this checkout would overwrite or remove that is recorded nowhere.
    var uncommitted: [(path: String, kind: TargetKind)] = []
    /// Targets no longer tracked afterwards; `overlapsDesired`: one of the new targets lies
    /// in or around it, so its data stays (checkout also keeps it when git now tracks files there).
    var dropped: [(path: String, overlapsDesired: Bool)] = []

    /// The safety rule: uncommitted work is refused unless --force (which saves it first).
    func refuseUncommitted(force: Bool) throws {
        if !uncommitted.isEmpty && !force { throw MLVError.dataModified(uncommitted.map(\.path)) }
    }
}

enum CheckoutPlanner {
    static func plan(_ s: CheckoutSituation, world: CheckoutWorld) throws -> CheckoutPlan {
        let desiredByPath = Dictionary(s.desired.map { ($0.path, $0.pointer) }, uniquingKeysWith: { a, _ in a })
        // git's rule for a switch: what is the same in both commits is left alone, local change
        // and all. A target whose pointer the switch keeps, with data edited (or deleted) here,
        // keeps that edit: not refused, not overwritten, still `modified` in `mlv status`.
        // Data that is only behind its pointer (written for another one) is brought in line,
        // data never checked out here is written, and --force overwrites as for any target
        // (saving the edit first), as git's stash does for code.
        var kept: Set<String> = []
        if s.switching && !s.force {
            for (path, p) in s.current where !s.switched.contains(Pointer.pointerPath(for: path)) && desiredByPath[path] == p {
                if let st = s.states[path]?.state, [.modified, .diverged, .added, .deleted].contains(st) { kept.insert(path) }
            }
        }
        var plan = CheckoutPlan()
        // Every snapshot about to be written is checked before anything moves (limits, totals).
        for (path, p) in s.desired {
            if kept.contains(path) { plan.targets.append(.init(path: path, pointer: p, step: .keep)); continue }
            guard let id = p.snapshot else { plan.targets.append(.init(path: path, pointer: p, step: .noData)); continue }
            if s.states[path]?.working?.id == id && s.states[path]?.working?.executable == p.executable {
                plan.targets.append(.init(path: path, pointer: p, step: .unchanged(id)))
                continue
            }
            let entry = TreeEntry(name: FS.basename(path), kind: p.type == .dir ? .directory : .file,
                                  executable: p.executable, size: p.size, files: p.files, id: id)
            try world.checkBeforeWriting(entry, at: path)
            plan.targets.append(.init(path: path, pointer: p, step: .update(entry)))
        }
        // Uncommitted work that this checkout would overwrite or remove.
        for (path, p) in s.current where !kept.contains(path) {
            guard let w = s.states[path]?.working else { continue }
            if desiredByPath[path]?.snapshot == w.id { continue }
            if w.id == p.snapshot || w.id == s.synced[path] { continue }
            if try world.isRecorded(path, w) { continue }
            plan.uncommitted.append((path, p.kind))
        }
        // Untracked files where a target is about to be written.
        for (path, p) in s.desired where s.states[path] == nil {
            if let w = try world.untrackedWork(at: path, kind: p.kind), w.id != p.snapshot,
               w.id != s.synced[path], try !world.isRecorded(path, w) {
                plan.uncommitted.append((path, p.kind))
            }
        }
        // Targets the new pointers no longer name.
        for (path, _) in s.current where desiredByPath[path] == nil {
            let overlaps = s.desired.contains { RepoPath.isWithin($0.path, path) || RepoPath.isWithin(path, $0.path) }
            plan.dropped.append((path, overlaps))
        }
        return plan
    }
}
