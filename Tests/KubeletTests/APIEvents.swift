import KubeAPI

/// The events in the API server's default namespace that `filter` keeps, once `done` holds for
/// them or when `limit` runs out: the kubelet sends events in the background, and holds them
/// while the node is starting pods, so a test waits for them instead of reading them once.
func events(in client: KubeClient, _ filter: (Event) -> Bool = { _ in true }, limit: Duration = .seconds(10),
            until done: ([Event]) -> Bool) async throws -> [Event] {
    let deadline = ContinuousClock.now + limit
    var events: [Event] = []
    while ContinuousClock.now < deadline {
        events = try await client.list(Event.self, namespace: "default").items.filter(filter)
        if done(events) { break }
        try await Task.sleep(for: .milliseconds(50))
    }
    return events
}
