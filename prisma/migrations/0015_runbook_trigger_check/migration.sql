-- A runbook runs for the incidents of a stream or of a detector, never for
-- every incident of every stream: registerRunbook and updateRunbook refuse a
-- trigger naming neither (BAD_USER_INPUT input.trigger), and now so does the
-- database, for writes that do not pass through them (a script, a test
-- seeding rows). NOT VALID: rows written before this check are left alone;
-- every new or updated row is checked.
ALTER TABLE "Runbook" ADD CONSTRAINT "Runbook_trigger_named"
  CHECK ("triggerStreamId" IS NOT NULL OR "triggerDetectorId" IS NOT NULL) NOT VALID;
