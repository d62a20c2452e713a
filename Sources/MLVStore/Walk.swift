// Walk — every object below a set of roots (trees, manifests, chunks): the one walk behind
// push (what to send), gc (what is live), fsck (what a pointer needs) and the commands that
// fetch what they read (what is missing).
import MLVSystem

extension Store {
    /// Every object id below `roots`, the roots included. Objects in `known` count as walked
    /// already, with everything below them. An object the store lacks is passed to `missing`
    /// (which may throw to stop the walk) and stays in the result with nothing below it.
    /// A file's chunks are listed without being looked up unless `lookUpChunks`; with
    /// `treesOnly`, a tree's files and links are left out (a folder's trees alone).
    public func walk(from roots: some Sequence<ObjectID>, known: Set<ObjectID> = [], treesOnly: Bool = false,
                     lookUpChunks: Bool = false, missing: (ObjectID) throws -> Void = { _ in }) throws -> Set<ObjectID> {
        var seen = known
        var stack = Array(roots)
        let deltas = try hasDeltas()
        while let id = stack.popLast() {
            guard seen.insert(id).inserted else { continue }
            guard let loc = try location(of: id) else {
                try missing(id)
                continue
            }
            let below = try children(of: id, type: loc.type, treesOnly: treesOnly).map(\.id)
            if loc.type == .file && !lookUpChunks {
                // Chunks are not looked up, except for the bases of deltas: those are live
                // (and sent, and fetched) with every chunk stored against them.
                if deltas {
                    for c in below where !seen.contains(c) {
                        if let cl = try location(of: c), cl.encoding == .delta { stack.append(c) } else { seen.insert(c) }
                    }
                } else {
                    seen.formUnion(below)
                }
            } else {
                stack += below
            }
        }
        return seen
    }

    /// The objects one step below `id` (of `type`): a tree's entries (with `treesOnly`, its
    /// folders alone), a file's chunks, a delta chunk's bases (`Delta.swift`). The one step of every walk
    /// (`walk`, and fetch's level-by-level walk, which downloads between levels).
    public func children(of id: ObjectID, type: ObjectType, treesOnly: Bool = false) throws -> [(id: ObjectID, isTree: Bool)] {
        switch type {
        case .tree:
            return try tree(id).entries.filter { !treesOnly || $0.kind == .directory }.map { ($0.id, $0.kind == .directory) }
        case .file: return try manifest(id).chunks.map { ($0.id, false) }
        case .chunk: return try deltaBases(of: id).map { ($0, false) }
        }
    }
}

extension Store {
    /// Every base below `ids` (bases of their bases too), `ids` themselves left out.
    public func bases(below ids: some Sequence<ObjectID>) throws -> Set<ObjectID> {
        var out = Set<ObjectID>()
        var stack = Array(ids)
        while let id = stack.popLast() {
            for b in try deltaBases(of: id) where out.insert(b).inserted { stack.append(b) }
        }
        return out
    }

    /// `packs` and every pack holding a base of a delta in them, until none is missing: a
    /// pack is sent or kept whole, and every delta in it must stay readable wherever it
    /// goes (a remote checks each pack's deltas when it is fetched).
    public func closedUnderBases(_ packs: Set<ObjectID>) throws -> Set<ObjectID> {
        guard try hasDeltas() else { return packs }
        var result = packs, frontier = packs
        while !frontier.isEmpty {
            var next = Set<ObjectID>()
            for (_, es) in try entries(inPacks: frontier) {
                for e in es where e.encoding == .delta {
                    for b in try deltaBases(of: e.id) {
                        if let p = try pack(of: b), !result.contains(p) { next.insert(p) }
                    }
                }
            }
            result.formUnion(next)
            frontier = next
        }
        return result
    }
}
