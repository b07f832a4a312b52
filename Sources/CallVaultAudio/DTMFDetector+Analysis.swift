extension DTMFDetector {
    /// Runs the sixteen Goertzel filters over the current window, applies the Q.24 checks, and
    /// advances the press state machine.
    mutating func analyze() {
        var s1 = SIMD16<Float>()
        var s2 = SIMD16<Float>()
        var energy: Float = 0
        var index = head
        for _ in 0..<window {
            let x = ring[index]
            index = index &+ 1 == window ? 0 : index &+ 1
            let s0 = SIMD16<Float>(repeating: x) + coefficients * s1 - s2
            s2 = s1
            s1 = s0
            energy += x * x
        }
        // |X(ω)|², scaled so a sine of amplitude A reads A²/2 (its mean square).
        let n = Float(window)
        let power = (s1 * s1 + s2 * s2 - coefficients * s1 * s2) * (2 / (n * n))
        let key = classify(power, meanSquare: energy / n)
        advance(key: key.index, power: key.power)
    }

    /// The keypad index (0...15) this window shows, or -1, with the two tones' summed power.
    func classify(_ p: SIMD16<Float>, meanSquare: Float) -> (index: Int, power: Float) {
        var row = 0
        var column = 0
        for i in 1..<4 {
            if p[i] > p[row] { row = i }
            if p[4 + i] > p[4 + column] { column = i }
        }
        let rowPower = p[row]
        let columnPower = p[4 + column]
        guard rowPower >= minimumTonePower, columnPower >= minimumTonePower else { return (-1, 0) }
        if rowPower > columnPower {
            guard rowPower <= columnPower * normalTwist else { return (-1, 0) }
        } else {
            guard columnPower <= rowPower * reverseTwist else { return (-1, 0) }
        }
        for i in 0..<4 {
            if i != row && p[i] * relativePeak > rowPower { return (-1, 0) }
            if i != column && p[4 + i] * relativePeak > columnPower { return (-1, 0) }
        }
        guard rowPower + columnPower >= energyFraction * meanSquare else { return (-1, 0) }
        guard p[8 + row] * rowHarmonic <= rowPower, p[12 + column] * columnHarmonic <= columnPower else {
            return (-1, 0)
        }
        return (row * 4 + column, rowPower + columnPower)
    }

    /// One analysis step of the press state machine: idle → following a tone → confirmed (reported)
    /// → released after a real pause.
    mutating func advance(key: Int, power: Float) {
        if key >= 0 {
            if key == candidate {
                misses = 0
                if !confirmed { record(power) }
            } else {
                candidate = key
                confirmed = false
                misses = 0
                hitCount = 0
                record(power)
            }
            if !confirmed && qualifyingHits() >= requiredHits {
                confirmed = true
                if pendingCount < 8 {
                    pending |= UInt64(key) << (8 * pendingCount)
                    pendingCount += 1
                }
            }
        } else if candidate >= 0 {
            misses += 1
            if misses >= (confirmed ? releaseMisses : unconfirmedMisses + 1) {
                candidate = -1
                confirmed = false
                hitCount = 0
            }
        }
    }

    mutating func record(_ power: Float) {
        hitPowers[hitCount & 31] = power
        hitCount += 1
    }

    /// Hits of the current press within 1.5 dB (× 0.7) of its loudest.
    func qualifyingHits() -> Int {
        let stored = min(hitCount, 32)
        var peak: Float = 0
        for i in 0..<stored { peak = max(peak, hitPowers[i]) }
        var count = 0
        for i in 0..<stored where hitPowers[i] >= 0.7 * peak { count += 1 }
        return count
    }
}
