import Synchronization
import Testing

@testable import Kubelet

/// Shared between the test and its tasks.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout sending Value) -> sending R) -> R { value.withLock(body) }
}

@Suite struct StartSlotsTests {
    @Test func neverMoreThanTheCountAtOnce() async {
        let slots = StartSlots(count: 2)
        let counts = Shared((now: 0, most: 0))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    await slots.withSlot {
                        counts.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
                        try? await Task.sleep(for: .milliseconds(5))
                        counts.withLock { $0.now -= 1 }
                    }
                }
            }
        }
        #expect(counts.withLock { $0.most } == 2)
        #expect(slots.state.withLock { $0.free } == 2)
    }

    @Test func waitersGoInTheOrderTheyCame() async {
        let slots = StartSlots(count: 1)
        #expect(await slots.acquire())
        let order = Shared<[Int]>([])
        var waiters: [Task<Void, Never>] = []
        for index in 0..<4 {
            waiters.append(Task { await slots.withSlot { order.withLock { $0.append(index) } } })
            // Queued before the next one comes.
            while slots.state.withLock({ $0.waiters.count }) < index + 1 { await Task.yield() }
        }
        slots.release()
        for waiter in waiters { await waiter.value }
        #expect(order.withLock { $0 } == [0, 1, 2, 3])
        #expect(slots.state.withLock { $0.free } == 1)
    }

    @Test func aCancelledWaiterGoesOnWithoutTakingASlot() async {
        let slots = StartSlots(count: 1)
        #expect(await slots.acquire())
        let waiter = Task { await slots.acquire() }
        while slots.state.withLock({ $0.waiters.isEmpty }) { await Task.yield() }
        waiter.cancel()
        #expect(await waiter.value == false)
        #expect(slots.state.withLock { $0.waiters.isEmpty && $0.free == 0 })
        // Already cancelled before it asks: no slot, no wait.
        let late = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await slots.acquire()
        }
        #expect(await late.value == false)
        slots.release()
        #expect(slots.state.withLock { $0.free } == 1)
    }

    @Test func aSlotHeldPastItsLeaseIsGivenBack() async {
        let slots = StartSlots(count: 1, lease: .milliseconds(50))
        let hung = Task { await slots.withSlot { try? await Task.sleep(for: .seconds(2)) } }
        while slots.state.withLock({ $0.free }) == 1 { await Task.yield() }
        let start = ContinuousClock.now
        #expect(await slots.acquire())
        #expect(ContinuousClock.now - start < .seconds(1), "the next one waited for the hung call")
        hung.cancel()
        await hung.value
        slots.release()
        // Given back once: by the lease, not again at the end of the call.
        #expect(slots.state.withLock { $0.free } == 1)
    }
}
