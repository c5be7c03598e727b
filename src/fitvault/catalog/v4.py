"""The declarations: every data type of the Google Health API v4 (discovery rev 20261030).

Operations and their maximum ranges follow the spec's §1.5/§1.6 and the measured answers in §2
(dailyRollUp is refused for the types listed there, whatever discovery says). Units are the
API's: millimetres, grams, kcal, °C, mL, mg/dL, bpm, ms, %.
"""

from __future__ import annotations

from fitvault.catalog import (
    Child,
    Conv,
    DataType,
    Field,
    Op,
    Table,
    cols,
)
from fitvault.catalog import RecordKind as K

ACT = "activity_and_fitness"
HEALTH = "health_metrics_and_measurements"
I64 = Conv.INT64
DUR = Conv.DURATION

LIST_ONLY: dict[Op, int | None] = {Op.LIST: None, Op.RECONCILE: None}
LIST_GET: dict[Op, int | None] = {Op.LIST: None, Op.RECONCILE: None, Op.GET: None}
LIST: dict[Op, int | None] = {Op.LIST: None}
CATALOG_OPS: dict[Op, int | None] = {Op.LIST: None, Op.GET: None}


def _rollups(days: int, *, get: bool = False, listable: bool = True) -> dict[Op, int | None]:
    ops: dict[Op, int | None] = {Op.ROLLUP: days, Op.DAILY_ROLLUP: days}
    if listable:
        ops |= {Op.LIST: None, Op.RECONCILE: None}
    if get:
        ops[Op.GET] = None
    return ops


ZONES4 = ("LIGHT", "MODERATE", "VIGOROUS", "PEAK")
LEVELS = ("LIGHT", "MODERATE", "VIGOROUS")


def _stats(stage: str, member: str) -> tuple[Field, ...]:
    return (
        Field(f"{stage}_breaths_per_minute", "DOUBLE", f"{member}.breathsPerMinute", "1/min"),
        Field(f"{stage}_signal_to_noise", "DOUBLE", f"{member}.signalToNoise"),
        Field(f"{stage}_std_dev", "DOUBLE", f"{member}.standardDeviation", "1/min"),
    )


def _metrics(prefix: str = "metricsSummary.") -> tuple[Field, ...]:
    """MetricsSummary of an exercise or a split."""
    p = prefix
    return (
        Field("calories_kcal", "DOUBLE", p + "caloriesKcal", "kcal"),
        Field("distance_mm", "DOUBLE", p + "distanceMillimeters", "mm"),
        Field("steps", "BIGINT", p + "steps", conv=I64),
        Field("avg_heart_rate_bpm", "INTEGER", p + "averageHeartRateBeatsPerMinute", "bpm", I64),
        Field("active_zone_minutes", "INTEGER", p + "activeZoneMinutes", "min", I64),
        Field("avg_pace_s_per_m", "DOUBLE", p + "averagePaceSecondsPerMeter", "s/m"),
        Field("avg_speed_mm_per_s", "DOUBLE", p + "averageSpeedMillimetersPerSecond", "mm/s"),
        Field("elevation_gain_mm", "DOUBLE", p + "elevationGainMillimeters", "mm"),
    )


_ZONE_TIME = tuple(
    Field(f"{z}_zone_s", "DOUBLE", f"metricsSummary.heartRateZoneDurations.{z}Time", "s", DUR)
    for z in ("light", "moderate", "vigorous", "peak")
)
_MOBILITY = (
    Field("avg_cadence_spm", "DOUBLE", "metricsSummary.mobilityMetrics.avgCadenceStepsPerMinute"),
    Field(
        "avg_ground_contact_s",
        "DOUBLE",
        "metricsSummary.mobilityMetrics.avgGroundContactTimeDuration",
        "s",
        DUR,
    ),
    Field(
        "avg_stride_mm",
        "INTEGER",
        "metricsSummary.mobilityMetrics.avgStrideLengthMillimeters",
        "mm",
        I64,
    ),
    Field(
        "avg_vertical_oscillation_mm",
        "INTEGER",
        "metricsSummary.mobilityMetrics.avgVerticalOscillationMillimeters",
        "mm",
        I64,
    ),
    Field("avg_vertical_ratio", "DOUBLE", "metricsSummary.mobilityMetrics.avgVerticalRatio"),
)
EXERCISE_TYPES = (
    "RUNNING", "WALKING", "BIKING", "WEIGHTLIFTING", "SWIMMING_POOL", "YOGA", "HIIT", "HIKING",
    "STRENGTH_TRAINING", "TREADMILL", "ELLIPTICAL", "OTHER",
)  # fmt: skip
_SPLIT_TIMES = (
    Field("start_time", "TIMESTAMPTZ", "startTime", conv=Conv.TIMESTAMP),
    Field("end_time", "TIMESTAMPTZ", "endTime", conv=Conv.TIMESTAMP),
    Field("utc_offset_s", "INTEGER", "startUtcOffset", "s", Conv.OFFSET),
)
_DEVICE_INFO = (
    Field("device_model", "VARCHAR", "medicalDeviceInfo.deviceModel"),
    Field("algorithm_version", "VARCHAR", "medicalDeviceInfo.algorithmVersion"),
)

# --- sleep: hand-written normaliser (summary + stages from one message) ---------------------

SLEEP_SESSIONS_TABLE = Table(
    "sleep_sessions",
    cols(
        "start_time TIMESTAMPTZ, end_time TIMESTAMPTZ, start_utc_offset_s INTEGER,"
        "end_utc_offset_s INTEGER, local_date DATE, sleep_type VARCHAR, is_main_sleep BOOLEAN,"
        "is_nap BOOLEAN, processed BOOLEAN, stages_status VARCHAR,"
        "minutes_in_sleep_period INTEGER, minutes_asleep INTEGER, minutes_awake INTEGER,"
        "minutes_to_fall_asleep INTEGER, minutes_after_wakeup INTEGER, minutes_deep INTEGER,"
        "minutes_light INTEGER, minutes_rem INTEGER, minutes_wake INTEGER, device VARCHAR,"
        "source_id VARCHAR, updated_at TIMESTAMPTZ, source VARCHAR"
    ),
    key=("start_time",),
    range_column="end_time",
)
SLEEP_STAGES_TABLE = Table(
    "sleep_stages",
    cols(
        "session_start TIMESTAMPTZ, start_time TIMESTAMPTZ, end_time TIMESTAMPTZ,"
        "utc_offset_s INTEGER, stage VARCHAR, source VARCHAR"
    ),
    key=("session_start", "start_time"),
    range_column="start_time",
    parent="sleep_sessions",
    parent_key="session_start",
)

TYPES: tuple[DataType, ...] = (
    # --- activity and fitness ----------------------------------------------------------------
    DataType(
        "active-energy-burned", K.INTERVAL, ACT,
        (Field("kcal", "DOUBLE", "kcal", "kcal", doc="energy above the basal rate"),),
        _rollups(90),
    ),
    DataType(
        "active-minutes", K.INTERVAL, ACT,
        (
            Field("activity_level", "VARCHAR", "*.activityLevel", enum=LEVELS),
            Field("minutes", "INTEGER", "*.activeMinutes", "min", I64),
        ),
        _rollups(14), explode="activeMinutesByActivityLevel", extra_key=("activity_level",),
    ),
    DataType(
        "active-zone-minutes", K.INTERVAL, ACT,
        (
            Field("minutes", "INTEGER", "activeZoneMinutes", "min", I64,
                  doc="1 per fat-burn minute, 2 per cardio or peak minute"),
            Field("heart_rate_zone", "VARCHAR", "heartRateZone",
                  enum=("FAT_BURN", "CARDIO", "PEAK")),
        ),
        _rollups(90),
    ),
    DataType(
        "activity-level", K.INTERVAL, ACT,
        (
            Field("level", "VARCHAR", "activityLevelType", enum=(
                "SEDENTARY", "LIGHTLY_ACTIVE", "MODERATELY_ACTIVE", "VERY_ACTIVE")),
        ),
        LIST_ONLY,
    ),
    DataType(
        "altitude", K.INTERVAL, ACT,
        (Field("gain_mm", "BIGINT", "gainMillimeters", "mm", I64, absent_is_zero=True),),
        _rollups(90),
    ),
    DataType(
        "basal-energy-burned", K.INTERVAL, ACT,
        (Field("kcal", "DOUBLE", "kcal", "kcal"),), LIST_ONLY,
    ),
    DataType(
        "calories-in-heart-rate-zone", K.INTERVAL, ACT,
        (
            Field("heart_rate_zone", "VARCHAR", "*.heartRateZone", enum=ZONES4),
            Field("kcal", "DOUBLE", "*.kcal", "kcal"),
        ),
        _rollups(14, listable=False), explode="caloriesInHeartRateZones",
        extra_key=("heart_rate_zone",),
    ),
    DataType(
        "daily-vo2-max", K.DAILY, ACT,
        (
            Field("vo2_max", "DOUBLE", "vo2Max", "ml/kg/min"),
            Field("cardio_fitness_level", "VARCHAR", "cardioFitnessLevel", enum=(
                "POOR", "FAIR", "AVERAGE", "GOOD", "VERY_GOOD", "EXCELLENT")),
            Field("estimated", "BOOLEAN", "estimated"),
            Field("vo2_max_covariance", "DOUBLE", "vo2MaxCovariance"),
        ),
        LIST_ONLY,
    ),
    DataType(
        "distance", K.INTERVAL, ACT,
        (Field("distance_mm", "BIGINT", "millimeters", "mm", I64, absent_is_zero=True),),
        _rollups(90),
    ),
    DataType(
        "exercise", K.SESSION, ACT,
        (
            Field("exercise_type", "VARCHAR", "exerciseType", enum=EXERCISE_TYPES),
            Field("display_name", "VARCHAR", "displayName"),
            Field("active_duration_s", "DOUBLE", "activeDuration", "s", DUR),
            *_metrics(), *_ZONE_TIME, *_MOBILITY,
            Field("run_vo2_max", "DOUBLE", "metricsSummary.runVo2Max", "ml/kg/min"),
            Field("total_swim_lengths", "DOUBLE", "metricsSummary.totalSwimLengths"),
            Field("has_gps", "BOOLEAN", "exerciseMetadata.hasGps"),
            Field("pool_length_mm", "BIGINT", "exerciseMetadata.poolLengthMillimeters", "mm", I64),
            Field("notes", "VARCHAR", "notes"),
            Field("updated_at", "TIMESTAMPTZ", "updateTime", conv=Conv.TIMESTAMP),
        ),
        LIST_GET, identifiable=True, max_page_size=25, civil_filter=True,
        children=(
            Child(
                "exercise_splits", "splits",
                (
                    *_SPLIT_TIMES,
                    Field("split_type", "VARCHAR", "splitType", enum=(
                        "MANUAL", "DURATION", "DISTANCE", "CALORIES")),
                    Field("active_duration_s", "DOUBLE", "activeDuration", "s", DUR),
                    *_metrics(),
                ),
                key=("start_time",),
            ),
            Child(
                "exercise_events", "exerciseEvents",
                (
                    Field("event_time", "TIMESTAMPTZ", "eventTime", conv=Conv.TIMESTAMP),
                    Field("utc_offset_s", "INTEGER", "eventUtcOffset", "s", Conv.OFFSET),
                    Field("event_type", "VARCHAR", "exerciseEventType", enum=(
                        "START", "STOP", "PAUSE", "RESUME", "AUTO_PAUSE", "AUTO_RESUME")),
                ),
                key=("event_time", "event_type"),
            ),
        ),
    ),
    DataType(
        "floors", K.INTERVAL, ACT,
        (Field("floors", "BIGINT", "countSum", conv=I64),), _rollups(90, listable=False),
    ),
    DataType(
        "run-vo2-max", K.SAMPLE, ACT,
        (Field("run_vo2_max", "DOUBLE", "runVo2Max", "ml/kg/min"),), _rollups(90),
    ),
    DataType("sedentary-period", K.INTERVAL, ACT, (), _rollups(90)),
    DataType(
        "steps", K.INTERVAL, ACT,
        (Field("count", "INTEGER", "count", "steps", I64, absent_is_zero=True),), _rollups(90),
    ),
    DataType(
        "swim-lengths-data", K.INTERVAL, ACT,
        (
            Field("stroke_count", "BIGINT", "strokeCount", conv=I64),
            Field("stroke_type", "VARCHAR", "swimStrokeType", enum=(
                "FREESTYLE", "BACKSTROKE", "BREASTSTROKE", "BUTTERFLY")),
        ),
        _rollups(90),
    ),
    DataType(
        "time-in-heart-rate-zone", K.INTERVAL, ACT,
        (Field("heart_rate_zone", "VARCHAR", "heartRateZoneType", enum=ZONES4),),
        _rollups(90),
    ),
    DataType(
        "total-calories", K.INTERVAL, ACT,
        (Field("kcal", "DOUBLE", "kcalSum", "kcal", doc="including the basal rate"),),
        _rollups(14, listable=False),
    ),
    DataType(
        "vo2-max", K.SAMPLE, ACT,
        (
            Field("vo2_max", "DOUBLE", "vo2Max", "ml/kg/min"),
            Field("measurement_method", "VARCHAR", "measurementMethod", enum=(
                "FITBIT_RUN", "GOOGLE_DEMOGRAPHIC", "COOPER_TEST", "HEART_RATE_RATIO",
                "METABOLIC_CART", "MULTISTAGE_FITNESS_TEST", "ROCKPORT_FITNESS_TEST",
                "MAX_EXERCISE", "PREDICTION_SUB_MAX_EXERCISE", "PREDICTION_NON_EXERCISE",
                "OTHER")),
        ),
        LIST_ONLY,
    ),
    # --- health metrics and measurements -----------------------------------------------------
    DataType(
        "blood-glucose", K.SAMPLE, HEALTH,
        (
            Field("mg_dl", "DOUBLE", "bloodGlucoseMilligramsPerDeciliter", "mg/dL"),
            Field("meal_type", "VARCHAR", "mealType", enum=(
                "BREAKFAST", "LUNCH", "DINNER", "SNACK")),
            Field("measurement_source", "VARCHAR", "measurementSource", enum=(
                "SELF_MONITORING_BLOOD_GLUCOSE", "CONTINUOUS_GLUCOSE_MONITORING", "LAB_TEST")),
            Field("measurement_timing", "VARCHAR", "measurementTiming", enum=(
                "AFTER_MEAL", "BEFORE_MEAL", "FASTING", "GENERAL", "BEFORE_BED", "OVER_NIGHT")),
            Field("specimen", "VARCHAR", "specimen", enum=(
                "CAPILLARY_BLOOD", "INTERSTITIAL_FLUID", "PLASMA", "SERUM", "TEARS",
                "WHOLE_BLOOD")),
            Field("notes", "VARCHAR", "notes"),
        ),
        _rollups(90, get=True), identifiable=True,
    ),
    DataType(
        "body-fat", K.SAMPLE, HEALTH,
        (Field("percent", "DOUBLE", "percentage", "%"),), _rollups(90, get=True),
        identifiable=True,
    ),
    DataType(
        "core-body-temperature", K.SAMPLE, HEALTH,
        (
            Field("celsius", "DOUBLE", "temperatureCelsius", "°C"),
            Field("measurement_location", "VARCHAR", "measurementLocation", enum=(
                "OTHER", "ARMPIT", "BODY", "EAR", "FINGER", "MOUTH", "WRIST", "FOREHEAD")),
            Field("measurement_id", "VARCHAR", "id"),
        ),
        _rollups(90, get=True), identifiable=True,
    ),
    DataType(
        "daily-heart-rate-variability", K.DAILY, HEALTH,
        (
            Field("avg_rmssd_ms", "DOUBLE", "averageHeartRateVariabilityMilliseconds", "ms"),
            Field("non_rem_bpm", "INTEGER", "nonRemHeartRateBeatsPerMinute", "bpm", I64),
            Field("entropy", "DOUBLE", "entropy"),
            Field("deep_sleep_rmssd_ms", "DOUBLE",
                  "deepSleepRootMeanSquareOfSuccessiveDifferencesMilliseconds", "ms"),
        ),
        LIST_ONLY,
    ),
    DataType(
        "daily-heart-rate-zones", K.DAILY, HEALTH,
        (
            Field("heart_rate_zone", "VARCHAR", "*.heartRateZoneType", enum=ZONES4),
            Field("min_bpm", "INTEGER", "*.minBeatsPerMinute", "bpm", I64),
            Field("max_bpm", "INTEGER", "*.maxBeatsPerMinute", "bpm", I64),
        ),
        LIST_ONLY, explode="heartRateZones", extra_key=("heart_rate_zone",),
    ),
    DataType(
        "daily-oxygen-saturation", K.DAILY, HEALTH,
        (
            Field("avg_percent", "DOUBLE", "averagePercentage", "%"),
            Field("lower_bound_percent", "DOUBLE", "lowerBoundPercentage", "%"),
            Field("upper_bound_percent", "DOUBLE", "upperBoundPercentage", "%"),
            Field("std_dev_percent", "DOUBLE", "standardDeviationPercentage", "%"),
        ),
        LIST_ONLY,
    ),
    DataType(
        "daily-respiratory-rate", K.DAILY, HEALTH,
        (Field("breaths_per_minute", "DOUBLE", "breathsPerMinute", "1/min"),), LIST_ONLY,
    ),
    DataType(
        "daily-resting-heart-rate", K.DAILY, HEALTH,
        (
            Field("bpm", "SMALLINT", "beatsPerMinute", "bpm", I64),
            Field("calculation_method", "VARCHAR",
                  "dailyRestingHeartRateMetadata.calculationMethod",
                  enum=("WITH_SLEEP", "ONLY_WITH_AWAKE_DATA")),
        ),
        LIST_ONLY, table_name="resting_heart_rate",
    ),
    DataType(
        "daily-sleep-temperature-derivations", K.DAILY, HEALTH,
        (
            Field("nightly_celsius", "DOUBLE", "nightlyTemperatureCelsius", "°C"),
            Field("baseline_celsius", "DOUBLE", "baselineTemperatureCelsius", "°C"),
            Field("relative_nightly_stddev_30d_celsius", "DOUBLE",
                  "relativeNightlyStddev30dCelsius", "°C"),
        ),
        LIST_ONLY,
    ),
    DataType(
        "heart-rate", K.SAMPLE, HEALTH,
        (
            Field("bpm", "SMALLINT", "beatsPerMinute", "bpm", I64),
            Field("motion_context", "VARCHAR", "metadata.motionContext",
                  enum=("ACTIVE", "SEDENTARY")),
            Field("sensor_location", "VARCHAR", "metadata.sensorLocation", enum=(
                "CHEST", "WRIST", "FINGER", "HAND", "EAR_LOBE", "FOOT")),
        ),
        _rollups(14), server_page_cap=5_000, split_days=2, per_day=17_000,
    ),
    DataType(
        "heart-rate-variability", K.SAMPLE, HEALTH,
        (
            Field("rmssd_ms", "DOUBLE", "rootMeanSquareOfSuccessiveDifferencesMilliseconds", "ms"),
            Field("sdnn_ms", "DOUBLE", "standardDeviationMilliseconds", "ms"),
            Field("hf_power", "DOUBLE", "metadata.highFrequencyPower"),
            Field("lf_power", "DOUBLE", "metadata.lowFrequencyPower"),
        ),
        LIST_ONLY,
    ),
    DataType(
        "height", K.SAMPLE, HEALTH,
        (Field("height_mm", "INTEGER", "heightMillimeters", "mm", I64),), LIST_GET,
        identifiable=True,
    ),
    DataType(
        "oxygen-saturation", K.SAMPLE, HEALTH,
        (Field("percent", "DOUBLE", "percentage", "%"),), LIST_ONLY, per_day=450,
    ),
    DataType(
        "respiratory-rate-sleep-summary", K.SAMPLE, HEALTH,
        (
            *_stats("full", "fullSleepStats"),
            *_stats("deep", "deepSleepStats"),
            *_stats("light", "lightSleepStats"),
            *_stats("rem", "remSleepStats"),
        ),
        LIST_ONLY,
    ),
    DataType(
        "weight", K.SAMPLE, HEALTH,
        (Field("grams", "DOUBLE", "weightGrams", "g"), Field("notes", "VARCHAR", "notes")),
        _rollups(90, get=True), identifiable=True,
    ),
    DataType(
        "sleep", K.SESSION, "sleep", (), LIST_GET, identifiable=True, max_page_size=25,
        filter_override="sleep.interval.end_time", normaliser="sleep",
        custom_tables=(SLEEP_SESSIONS_TABLE, SLEEP_STAGES_TABLE),
    ),
    # --- nutrition ---------------------------------------------------------------------------
    DataType(
        "hydration-log", K.SESSION, "nutrition",
        (
            Field("milliliters", "DOUBLE", "amountConsumed.milliliters", "mL"),
            Field("user_unit", "VARCHAR", "amountConsumed.userProvidedUnit", enum=(
                "CUP_US", "FLUID_OUNCE_US", "LITER", "MILLILITER")),
        ),
        _rollups(90, get=True), identifiable=True, civil_filter=True,
    ),
    DataType(
        "nutrition-log", K.SESSION, "nutrition",
        (
            Field("food_display_name", "VARCHAR", "foodDisplayName"),
            Field("meal_type", "VARCHAR", "mealType", enum=(
                "BREAKFAST", "LUNCH", "DINNER", "SNACK", "ANYTIME")),
            Field("energy_kcal", "DOUBLE", "energy.kcal", "kcal"),
            Field("energy_from_fat_kcal", "DOUBLE", "energyFromFat.kcal", "kcal"),
            Field("carbohydrate_g", "DOUBLE", "totalCarbohydrate.grams", "g"),
            Field("fat_g", "DOUBLE", "totalFat.grams", "g"),
            Field("serving_amount", "DOUBLE", "serving.amount"),
            Field("serving_unit", "VARCHAR", "serving.foodMeasurementUnitDisplayName"),
        ),
        _rollups(90, get=True), identifiable=True, civil_filter=True,
        children=(
            Child(
                "nutrition_log_nutrients", "nutrients",
                (
                    Field("nutrient", "VARCHAR", "nutrient", enum=(
                        "PROTEIN", "SUGAR", "DIETARY_FIBER", "SODIUM", "SATURATED_FAT",
                        "CALCIUM", "IRON", "VITAMIN_C", "CAFFEINE")),
                    Field("grams", "DOUBLE", "quantity.grams", "g"),
                ),
                key=("nutrient",),
            ),
        ),
    ),
    DataType(
        "food", K.SESSION, "nutrition", (), CATALOG_OPS,
        timeseries=False, doc="the food catalog (reference data, not a person's readings)",
    ),
    DataType(
        "food-measurement-unit", K.SESSION, "nutrition", (), CATALOG_OPS,
        timeseries=False, doc="units of the food catalog (reference data)",
    ),
    # --- ECG and irregular rhythm notifications ----------------------------------------------
    DataType(
        "electrocardiogram", K.SESSION, "ecg",
        (
            Field("avg_bpm", "INTEGER", "beatsPerMinuteAvg", "bpm", I64),
            Field("classification", "VARCHAR", "resultClassification", enum=(
                "NORMAL_SINUS_RHYTHM", "ATRIAL_FIBRILLATION", "INCONCLUSIVE",
                "INCONCLUSIVE_HIGH_HEART_RATE", "INCONCLUSIVE_LOW_HEART_RATE", "UNREADABLE",
                "NOT_ANALYZED")),
            Field("lead_number", "INTEGER", "leadNumber"),
            Field("sampling_hz", "INTEGER", "samplingFrequencyHertz", "Hz"),
            Field("millivolts_scaling_factor", "INTEGER", "millivoltsScalingFactor"),
            Field("waveform", "INTEGER[]", "waveformSamples",
                  doc="raw samples; millivolts = sample / millivolts_scaling_factor"),
            *_DEVICE_INFO,
        ),
        LIST, lower_bound_only=True,
    ),
    DataType(
        "irregular-rhythm-notification", K.SESSION, "irn", _DEVICE_INFO, LIST,
        civil_filter=True,
        children=(
            Child(
                "irregular_rhythm_alert_windows", "alertWindows",
                (
                    *_SPLIT_TIMES,
                    Field("positive", "BOOLEAN", "positive"),
                    Field("heart_beats", "VARCHAR", "heartBeats", conv=Conv.JSON,
                          doc="the window's beats as JSON [{beatsPerMinute, physicalTime, …}]"),
                ),
                key=("start_time",),
            ),
        ),
    ),
    # --- write-only: a client can write these but never read them back -----------------------
    DataType("menstrual-period", K.INTERVAL, "reproductive_health", readable=False),
    DataType("ovulation-test", K.SAMPLE, "reproductive_health", readable=False),
    DataType("symptoms", K.SAMPLE, "logged_symptoms", readable=False),
    DataType("moods", K.SAMPLE, "mindfulness", readable=False),
)  # fmt: skip
