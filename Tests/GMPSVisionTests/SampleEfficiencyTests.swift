import Testing
@testable import GMPSVision

/// The sample-ratio of issue 15 on hand-made curves: first-crossing semantics on the measured
/// snapshots, the lower bound when MAML never reaches GMPS's level, the upper bound when GMPS
/// never reaches MAML's best, ties, and a GMPS that needs no on-policy sample.
struct SampleEfficiencyTests {
    static func curve(_ points: [(Int, Double)]) -> [SampleEfficiency.Point] {
        points.map { SampleEfficiency.Point(samples: $0.0, success: $0.1) }
    }

    @Test func aLevelIsReachedAtTheFirstSnapshotAtOrAboveItWithoutInterpolation() {
        // Out of order, with a dip after the first crossing.
        let curve = Self.curve([(300, 0.7), (0, 0.1), (200, 0.3), (100, 0.5)])
        #expect(SampleEfficiency.samplesToReach(0.5, on: curve) == 100)
        #expect(SampleEfficiency.samplesToReach(0.4, on: curve) == 100, "no interpolation between 0.1 at 0 and 0.5 at 100")
        #expect(SampleEfficiency.samplesToReach(0.7, on: curve) == 300)
        #expect(SampleEfficiency.samplesToReach(0.8, on: curve) == nil)
        #expect(SampleEfficiency.samplesToPass(0.5, on: curve) == 300, "passing is strictly above")
        #expect(SampleEfficiency.best(curve) == 0.7)
    }

    @Test func gmpsReachingMAMLsBestEarlierIsTheRatioOfFirstCrossings() throws {
        // Equal bests (0.6): MAML reaches GMPS's level, so both counts are measured.
        let gmps = Self.curve([(0, 0.1), (100, 0.3), (200, 0.6), (300, 0.5)])
        let maml = Self.curve([(0, 0.0), (1000, 0.2), (2000, 0.6), (3000, 0.6)])
        let ratio = try #require(SampleEfficiency.ratio(gmps: gmps, maml: maml))
        #expect(ratio.bound == .exact)
        #expect(ratio.mamlSamples == 2000, "MAML's first snapshot at its best, not its last")
        #expect(ratio.gmpsSamples == 200)
        #expect(ratio.value == 10)
        #expect(ratio.level == 0.6)
    }

    @Test func bestsThatDifferOnlyByRoundingAreATie() throws {
        let level = 0.1 + 0.2 + 0.3   // 0.6000000000000001
        let gmps = Self.curve([(0, 0.2), (100, 0.6)])
        let maml = Self.curve([(0, 0.0), (1500, level)])
        let ratio = try #require(SampleEfficiency.ratio(gmps: gmps, maml: maml))
        #expect(ratio.bound == .exact)
        #expect(ratio.value == 15)
    }

    @Test func mamlNeverReachingGMPSsLevelGivesItsWholeBudgetOverGMPSsSamplesToPassItsBestAsALowerBound() throws {
        let gmps = Self.curve([(0, 0.2), (100, 0.5), (200, 0.8)])
        let maml = Self.curve([(0, 0.1), (1000, 0.5), (2000, 0.4)])
        let ratio = try #require(SampleEfficiency.ratio(gmps: gmps, maml: maml, mamlBudget: 4000))
        #expect(ratio.bound == .lower)
        #expect(ratio.level == 0.5)
        #expect(ratio.mamlSamples == 4000, "MAML's whole budget")
        #expect(ratio.gmpsSamples == 200, "GMPS passes 0.5 (strictly) at 200; it only reaches it at 100")
        #expect(ratio.value == 20)
        // Without a budget given, MAML's last snapshot is its budget.
        #expect(SampleEfficiency.ratio(gmps: gmps, maml: maml)?.value == 10)
    }

    @Test func gmpsNeverReachingMAMLsBestGivesAnUpperBoundOverItsWholeBudget() throws {
        let gmps = Self.curve([(0, 0.1), (100, 0.3), (200, 0.2)])
        let maml = Self.curve([(0, 0.0), (1000, 0.5), (2000, 0.5)])
        let ratio = try #require(SampleEfficiency.ratio(gmps: gmps, maml: maml))
        #expect(ratio.bound == .upper)
        #expect(ratio.mamlSamples == 1000)
        #expect(ratio.gmpsSamples == 200)
        #expect(ratio.value == 5)
    }

    @Test func gmpsAtTheLevelBeforeAnySampleIsBoundedByItsFirstPositiveSnapshot() throws {
        let gmps = Self.curve([(0, 0.6), (100, 0.6)])
        let maml = Self.curve([(0, 0.1), (1000, 0.5)])
        let ratio = try #require(SampleEfficiency.ratio(gmps: gmps, maml: maml))
        #expect(ratio.bound == .lower)
        #expect(ratio.gmpsSamples == 100)
        #expect(ratio.value == 10)
        // Neither needs a sample for MAML's best: no ratio.
        let flat = try #require(SampleEfficiency.ratio(gmps: Self.curve([(0, 0), (100, 0)]), maml: Self.curve([(0, 0), (1000, 0)])))
        #expect(flat.value == nil)
        #expect(SampleEfficiency.ratio(gmps: [], maml: maml) == nil)
    }

    @Test func aSeedBandIsTheMeanMinAndMaxPerSnapshot() {
        let band = SeedBand(seeds: [Self.curve([(0, 0.1), (100, 0.5), (200, 0.9)]), Self.curve([(0, 0.3), (100, 0.7)])])
        #expect(band.points.count == 2, "an unfinished seed ends the band")
        #expect(band.points[1].samples == 100)
        #expect(abs(band.points[1].mean - 0.6) < 1e-12)
        #expect(band.points[1].min == 0.5 && band.points[1].max == 0.7)
        #expect(band.meanCurve.map(\.samples) == [0, 100])
        let (mean, spread) = SeedBand.meanAndSpread([0.2, 0.4])
        #expect(abs(mean - 0.3) < 1e-12 && abs(spread - 0.1) < 1e-12)
        let single = SeedBand.meanAndSpread([0.7])
        #expect(single.mean == 0.7 && single.spread == 0, "one seed has no spread")
    }
}
