// The checkout planner's decisions from plain inputs (pointers, working states, what mlv
// last wrote), with a fake CheckoutWorld standing in for the disk and the store: no
// repository, no binary.
import Testing
@testable import MLVCore
@testable import MLVStore

/// Answers the planner's questions from values set by the test, and remembers what it was asked.
private final class FakeWorld: CheckoutWorld {
    /// Working content recorded somewhere (the store, or git): replacing it loses nothing.
    var recorded: Set<ObjectID> = []
    /// What lies where a target not tracked here is about to go.
    var untracked: [String: WorkingSnapshot] = [:]
    /// Targets checked before writing, in order.
    var checked: [String] = []

    func checkBeforeWriting(_ entry: TreeEntry, at path: String) throws { checked.append(path) }
    func untrackedWork(at path: String, kind: TargetKind) throws -> WorkingSnapshot? { untracked[path] }
    func isRecorded(_ path: String, _ working: WorkingSnapshot) throws -> Bool { recorded.contains(working.id) }
}

private func id(_ s: String) -> ObjectID { ObjectID.hash(Array(s.utf8)) }

private func pointer(_ s: String?, size: UInt64 = 10, type: Pointer.TargetType = .file) -> Pointer {
    var p = Pointer(kind: .dataset, type: type)
    p.snapshot = s.map(id)
    p.size = size
    p.files = 1
    return p
}

private func working(_ s: String) -> WorkingSnapshot {
    WorkingSnapshot(id: id(s), type: .file, size: 10, files: 1, executable: false)
}

private func situation(current: [(String, Pointer)], desired: [(String, Pointer)],
                       states: [String: WorkingState] = [:], synced: [String: ObjectID] = [:],
                       switching: Bool = true, switched: [String]? = nil, force: Bool = false) -> CheckoutSituation {
    // By default the switch rewrites every pointer that differs between current and desired.
    let rewritten = switched ?? desired.filter { d in !current.contains { $0.0 == d.0 && $0.1 == d.1 } }.map(\.0)
    return CheckoutSituation(current: current.map { ($0.0, $0.1) }, desired: desired.map { ($0.0, $0.1) },
                             states: states, synced: synced, switching: switching,
                             switched: Set(rewritten.map { Pointer.pointerPath(for: $0) }), force: force)
}

@Suite struct CheckoutPlannerTests {
    @Test func aTargetWhoseDataMatchesIsLeftAlone() throws {
        let world = FakeWorld()
        let plan = try CheckoutPlanner.plan(situation(current: [("a.csv", pointer("A"))], desired: [("a.csv", pointer("A"))],
                                                      states: ["a.csv": WorkingState(state: .clean, working: working("A"))]),
                                            world: world)
        #expect(plan.targets.map(\.step) == [.unchanged(id("A"))])
        #expect(plan.uncommitted.isEmpty && plan.dropped.isEmpty)
        #expect(world.checked.isEmpty, "nothing to write, nothing to check")
    }

    @Test func uncommittedWorkIsRefusedWithoutForceAndSavedWithIt() throws {
        let states = ["a.csv": WorkingState(state: .modified, working: working("edit"))]
        for force in [false, true] {
            let plan = try CheckoutPlanner.plan(situation(current: [("a.csv", pointer("A"))], desired: [("a.csv", pointer("B"))],
                                                          states: states, force: force), world: FakeWorld())
            #expect(plan.uncommitted.map(\.path) == ["a.csv"])
            if force {
                try plan.refuseUncommitted(force: true)
            } else {
                #expect(throws: MLVError.dataModified(["a.csv"])) { try plan.refuseUncommitted(force: false) }
            }
            guard case .update(let e) = plan.targets.first?.step else { Issue.record("a.csv is not written"); continue }
            #expect(e.id == id("B") && e.kind == .file && e.size == 10)
        }
    }

    @Test func workRecordedElsewhereIsNotUncommitted() throws {
        let world = FakeWorld()
        world.recorded = [id("older")]
        let plan = try CheckoutPlanner.plan(situation(current: [("a.csv", pointer("A"))], desired: [("a.csv", pointer("B"))],
                                                      states: ["a.csv": WorkingState(state: .modified, working: working("older"))]),
                                            world: world)
        #expect(plan.uncommitted.isEmpty)
    }

    @Test func dataOnlyBehindItsPointerIsBroughtInLine() throws {
        // What mlv last wrote there (synced) is recorded: no uncommitted work, just old data.
        let plan = try CheckoutPlanner.plan(situation(current: [("a.csv", pointer("B"))], desired: [("a.csv", pointer("B"))],
                                                      states: ["a.csv": WorkingState(state: .outOfSync, working: working("A"))],
                                                      synced: ["a.csv": id("A")], switching: false), world: FakeWorld())
        #expect(plan.uncommitted.isEmpty)
        #expect(plan.targets.map(\.step) == [.update(TreeEntry(name: "a.csv", kind: .file, size: 10, files: 1, id: id("B")))])
    }

    @Test func aNewTargetIsCheckedThenWritten() throws {
        let world = FakeWorld()
        let plan = try CheckoutPlanner.plan(situation(current: [], desired: [("models/m", pointer("M", size: 99, type: .dir))]),
                                            world: world)
        #expect(plan.targets.map(\.step) == [.update(TreeEntry(name: "m", kind: .directory, size: 99, files: 1, id: id("M")))])
        #expect(world.checked == ["models/m"])
        #expect(plan.uncommitted.isEmpty)
    }

    @Test func somethingUntrackedWhereANewTargetGoesIsUncommitted() throws {
        let world = FakeWorld()
        world.untracked = ["b.csv": working("mine")]
        var plan = try CheckoutPlanner.plan(situation(current: [], desired: [("b.csv", pointer("B"))]), world: world)
        #expect(plan.uncommitted.map(\.path) == ["b.csv"])
        // The same content as the new pointer's is no loss.
        world.untracked = ["b.csv": working("B")]
        plan = try CheckoutPlanner.plan(situation(current: [], desired: [("b.csv", pointer("B"))]), world: world)
        #expect(plan.uncommitted.isEmpty)
    }

    @Test func aTargetTheNewPointersLackIsDroppedUnlessOneOfThemLivesThere() throws {
        let plan = try CheckoutPlanner.plan(situation(current: [("old.csv", pointer("O")), ("d", pointer("D", type: .dir))],
                                                      desired: [("d/inner.csv", pointer("I"))],
                                                      states: ["old.csv": WorkingState(state: .clean, working: working("O")),
                                                               "d": WorkingState(state: .clean, working: working("D"))]),
                                            world: FakeWorld())
        #expect(plan.dropped.map(\.path) == ["old.csv", "d"])
        #expect(plan.dropped.map(\.overlapsDesired) == [false, true])
        #expect(plan.uncommitted.isEmpty, "clean data is recorded: removing it loses nothing")
    }

    @Test func anEditWhereTheCommitsAgreeIsKeptUnlessForced() throws {
        let p = pointer("A")
        let states = ["a.csv": WorkingState(state: .modified, working: working("edit"))]
        let kept = try CheckoutPlanner.plan(situation(current: [("a.csv", p)], desired: [("a.csv", p)], states: states, switched: []),
                                            world: FakeWorld())
        #expect(kept.targets.map(\.step) == [.keep])
        #expect(kept.uncommitted.isEmpty)
        let forced = try CheckoutPlanner.plan(situation(current: [("a.csv", p)], desired: [("a.csv", p)], states: states,
                                                        switched: [], force: true), world: FakeWorld())
        #expect(forced.targets.map(\.step) == [.update(TreeEntry(name: "a.csv", kind: .file, size: 10, files: 1, id: id("A")))])
        #expect(forced.uncommitted.map(\.path) == ["a.csv"])
        // Without REV there is no switch: the edit is uncommitted work like any other.
        let plain = try CheckoutPlanner.plan(situation(current: [("a.csv", p)], desired: [("a.csv", p)], states: states,
                                                       switching: false, switched: []), world: FakeWorld())
        #expect(plain.uncommitted.map(\.path) == ["a.csv"])
    }

    @Test func aPointerWithoutDataWritesNothing() throws {
        let world = FakeWorld()
        let plan = try CheckoutPlanner.plan(situation(current: [], desired: [("new.csv", pointer(nil))]), world: world)
        #expect(plan.targets.map(\.step) == [.noData])
        #expect(world.checked.isEmpty)
    }
}
