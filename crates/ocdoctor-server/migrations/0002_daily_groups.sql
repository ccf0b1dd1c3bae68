-- Incidents counted per UTC day and (rig, probe, target, OpenOCD version, cause), kept by the
-- writer in the upload's own transaction: the breakdowns read a few thousand rows instead of
-- every incident. Missing values are '' here (a NULL would never meet its own upsert).
CREATE TABLE daily_groups (
    team TEXT NOT NULL,
    day BIGINT NOT NULL,
    rig TEXT NOT NULL,
    probe TEXT NOT NULL,
    target TEXT NOT NULL,
    openocd_version TEXT NOT NULL,
    cause TEXT NOT NULL,
    incidents BIGINT NOT NULL,
    PRIMARY KEY (team, day, rig, probe, target, openocd_version, cause)
);
INSERT INTO daily_groups (team, day, rig, probe, target, openocd_version, cause, incidents)
SELECT team, day, COALESCE(rig, ''), COALESCE(probe, ''), COALESCE(target, ''),
       COALESCE(openocd_version, ''), cause, COUNT(*)
FROM incidents
GROUP BY team, day, COALESCE(rig, ''), COALESCE(probe, ''), COALESCE(target, ''),
         COALESCE(openocd_version, ''), cause;

-- Rig is the filter people use most.
CREATE INDEX incidents_team_rig_time ON incidents (team, rig, received_at);
