-- vmkeeper Incident (written by the operator, not kept in git), from status.phase: Healthy
-- once Recovered or Notified; Degraded when Failed or FencingFailed; Suspended while a
-- safety gate holds it (Suppressed); Progressing in every other phase.

local function condition(conditionType)
  if obj.status == nil or obj.status.conditions == nil then
    return nil
  end
  for _, c in ipairs(obj.status.conditions) do
    if c.type == conditionType then
      return c
    end
  end
  return nil
end

local function describe(c)
  local text = c.reason or c.type
  if c.message ~= nil and c.message ~= "" then
    text = text .. ": " .. c.message
  end
  return text
end

-- The operator has processed the current spec: status.observedGeneration, or a condition's
-- observedGeneration, equals metadata.generation. Kinds whose spec the operator writes itself
-- (strict = false) are only checked when they carry an observedGeneration.
local function observed(strict)
  local generation = obj.metadata and obj.metadata.generation
  if generation == nil or obj.status.observedGeneration == generation then
    return true
  end
  if not strict and obj.status.observedGeneration == nil then
    return true
  end
  for _, c in ipairs(obj.status.conditions or {}) do
    if c.observedGeneration == generation then
      return true
    end
  end
  return false
end

local function result(status, message)
  return { status = status, message = message }
end

local function waiting(strict)
  if obj.status == nil then
    return result("Progressing", "Waiting for the operator to report status")
  end
  if not observed(strict) then
    return result("Progressing", "Waiting for the operator to observe generation " .. tostring(obj.metadata.generation))
  end
  return nil
end

local OUTCOME = {
  Recovered = "Healthy",
  Notified = "Healthy",
  Failed = "Degraded",
  FencingFailed = "Degraded",
  Suppressed = "Suspended",
}

local function message(phase)
  local status = obj.status
  if phase == "Suppressed" and status.gate ~= nil and status.gate.name ~= nil then
    return "Suppressed by gate " .. status.gate.name .. ": " .. (status.gate.message or "")
  end
  if phase == "FencingFailed" then
    local fenced = condition("Fenced")
    if fenced ~= nil then
      return "FencingFailed: " .. describe(fenced)
    end
  end
  local summary = status.summary
  if summary ~= nil and summary.total ~= nil and summary.total > 0 then
    return phase .. ": " .. tostring(summary.recovered or 0) .. " of " .. tostring(summary.total)
      .. " instance(s) recovered, " .. tostring(summary.failed or 0) .. " failed"
  end
  return phase
end

local function health()
  local pending = waiting(false)
  if pending ~= nil then
    return pending
  end
  local phase = obj.status.phase or "Detected"
  return result(OUTCOME[phase] or "Progressing", message(phase))
end

return health()
