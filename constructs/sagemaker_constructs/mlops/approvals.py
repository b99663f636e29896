"""What every approval-driven function shares: the approvals queue, its alarms, the EventBridge rule.

One mechanism for :class:`~sagemaker_constructs.DeployOnApproval` (which calls ``UpdateEndpoint``)
and :class:`~sagemaker_constructs.PromoteOnApproval` (which records the approved version and lets
CloudFormation deploy it): an EventBridge rule (child ``Rule``) on ``SageMaker Model Package State
Change`` events with ``ModelApprovalStatus: Approved`` for one group sends approvals to a
KMS-encrypted, TLS-only SQS queue (child ``ApprovalQueue``, RETAIN by default: it holds pending
approvals) read one approval at a time. An approval that cannot be handled yet goes back to the
queue and is retried every ``retry_interval``, up to ``max_receive_count`` times, then waits in the
dead-letter queue (child ``DeadLetterQueue``) for a redrive. Alarms (notifying ``alarm_topic`` when
given): any message in the dead-letter queue (child ``DeadLetterQueueAlarm``) and an approval older
than ``approval_age_alarm`` in the queue (child ``ApprovalAgeAlarm``).
"""

from __future__ import annotations

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs

from ..errors import check_int_range, is_unresolved
from ..handlers.common import CONNECT_TIMEOUT, READ_TIMEOUT
from ..validation.checks import arn_account, check_range, duration_seconds, duration_to_seconds
from ..validation.limits import check_timeout_outlives
from ..interfaces import IModelPackageGroup
from .._internal.functions import SecureFunction


#: How long the approvals queue keeps an approval (SQS's default retention).
APPROVAL_RETENTION_DAYS = 4


class ApprovalFunction(SecureFunction):
    """Base of the functions that act on approvals of one model package group (see the module)."""

    #: EventBridge delivers approvals to the KMS-encrypted queue: the default key allows it.
    _key_allows_eventbridge = True

    #: Seconds one attempt of the handler's SDK client may take (connect + read timeout): the function's
    #: timeout must outlive at least one, or a slow call is cut off before the SDK can retry or report it.
    #: DeployOnApproval: ``handlers/common.py`` (10 + 60 s); PromoteOnApproval: botocore's defaults (60 + 60 s).
    _sdk_attempt_seconds: int = CONNECT_TIMEOUT + READ_TIMEOUT

    def _check_approvals(self, *, timeout: Duration, retry_attempts: int, retry_interval: Duration,
                         max_receive_count: int, approval_age_alarm: Duration) -> None:
        self._check_function(timeout=timeout, memory_size=256, reserved_concurrency=2, retry_attempts=retry_attempts)
        check_timeout_outlives(self, "timeout", duration_seconds(self, "timeout", timeout), self._sdk_attempt_seconds,
                               what=f"one attempt of the handler's SDK client (connect + read timeout, "
                                    f"{self._sdk_attempt_seconds} s)")
        check_int_range(self, "max_receive_count", max_receive_count, minimum=1, maximum=1000)
        if not approval_age_alarm.is_unresolved():
            # SQS keeps a message at most 14 days; the queue keeps approvals 4 days.
            check_int_range(self, "approval_age_alarm (seconds)",
                            duration_to_seconds(self, "approval_age_alarm", approval_age_alarm), minimum=60,
                            maximum=4 * 86400)
        if not retry_interval.is_unresolved() and not timeout.is_unresolved():
            check_int_range(self, "retry_interval (seconds)", duration_to_seconds(self, "retry_interval", retry_interval),
                            minimum=duration_to_seconds(self, "timeout", timeout), maximum=12 * 3600)
        if not retry_interval.is_unresolved() and isinstance(max_receive_count, int) \
                and not is_unresolved(max_receive_count):
            # An approval reaches the dead-letter queue after max_receive_count receives, one retry_interval
            # apart; the queue deletes it once it is older than its retention (botocore sqs
            # MessageRetentionPeriod), so retries beyond that were never made and the approval vanished
            # without the dead-letter alarm.
            interval = duration_to_seconds(self, "retry_interval", retry_interval)
            check_range(self, "max_receive_count", max_receive_count, minimum=1, integer=True,
                        maximum=max(1, APPROVAL_RETENTION_DAYS * 86400 // max(interval, 1)),
                        note=f"with retry_interval={retry_interval.to_human_string()}: the approvals queue keeps an "
                             f"approval {APPROVAL_RETENTION_DAYS} days, so later retries would never run and it would "
                             "expire instead of reaching the dead-letter queue",
                        limit="botocore sqs MessageRetentionPeriod")

    def _approval_settings(self, *, model_package_group: IModelPackageGroup, retry_interval: Duration,
                           max_receive_count: int, queue_removal_policy: RemovalPolicy,
                           approval_age_alarm: Duration, alarm_topic: sns.ITopic | None,
                           age_alarm_description: str) -> None:
        """Remember what :meth:`_own_resources` builds the queue and its alarm from (before ``_build``)."""
        self.model_package_group: IModelPackageGroup = model_package_group
        self._retry_interval, self._max_receive_count = retry_interval, max_receive_count
        self._queue_removal_policy, self._approval_age, self._alarm_topic = (
            queue_removal_policy, approval_age_alarm, alarm_topic)
        self._age_alarm_description = age_alarm_description

    def _own_resources(self) -> list[iam.PolicyStatement]:
        # Approvals wait in a queue, so one that arrives during a rollout is retried every
        # retry_interval until it can be handled, instead of exhausting Lambda's 3-minute retries.
        self.approvals_queue: sqs.Queue = sqs.Queue(
            self,
            "ApprovalQueue",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=self.encryption_key,
            enforce_ssl=True,
            visibility_timeout=self._retry_interval,
            retention_period=Duration.days(APPROVAL_RETENTION_DAYS),
            dead_letter_queue=sqs.DeadLetterQueue(queue=self.dead_letter_queue, max_receive_count=self._max_receive_count),
            removal_policy=self._queue_removal_policy,
        )
        #: Alarm when an approval has waited longer than ``approval_age_alarm``.
        self.approval_age_alarm: cloudwatch.Alarm = self._queue_alarm(
            "ApprovalAgeAlarm", self.approvals_queue.metric_approximate_age_of_oldest_message(
                statistic=cloudwatch.Stats.MAXIMUM, period=Duration.minutes(5)),
            threshold=duration_to_seconds(self, "approval_age_alarm", self._approval_age), alarm_topic=self._alarm_topic,
            description=self._age_alarm_description,
        )
        # The same statement SQS's event source adds (written once); named so a supplied role is checked.
        return [iam.PolicyStatement(
            sid="ConsumeApprovals",
            actions=["sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage",
                     "sqs:GetQueueAttributes"],
            resources=[self.approvals_queue.queue_arn],
        )]

    def _subscribe_to_approvals(self, *, retry_attempts: int) -> None:
        """The queue feeds the function one approval at a time; the rule feeds the queue."""
        group = self.model_package_group
        group_account, account = arn_account(group.model_package_group_arn), Stack.of(self).account
        if group_account is not None and not is_unresolved(account) and group_account != account:
            # SageMaker sends the group's state changes to the default bus of the group's account; this
            # rule sees them only if that account forwards them here.
            Annotations.of(self).add_warning_v2(
                "@sagemaker-constructs/approvals:groupInAnotherAccount",
                f"{group.model_package_group_name} is a model package group of account {group_account}: its "
                f"approval events reach account {account}'s default event bus only if a rule in {group_account} "
                "forwards them (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html); "
                "until then no approval is deployed or promoted")
        if not isinstance(self.encryption_key, kms.Key):
            # targets.SqsQueue grants EventBridge the queue's key; an imported key's policy cannot be changed,
            # so CDK drops that grant without a word and no approval reaches the queue unless the policy
            # already allows EventBridge.
            Annotations.of(self).add_warning_v2(
                "@sagemaker-constructs/approvals:keyImported",
                f"encryption_key {self.encryption_key.key_arn} is imported: its key policy is not changed here, so "
                "make sure it lets events.amazonaws.com use the key (kms:GenerateDataKey, kms:Decrypt) for the "
                "approvals queue, and logs.<region>.amazonaws.com for the function's log group, or no approval "
                "is delivered (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-encryption-key-policy.html)")
        self.function.add_event_source(event_sources.SqsEventSource(
            self.approvals_queue, batch_size=1, report_batch_item_failures=True, max_concurrency=2,
        ))
        self.rule: events.Rule = events.Rule(
            self,
            "Rule",
            description=f"Approved versions of {group.model_package_group_name}",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=["SageMaker Model Package State Change"],
                detail={
                    "ModelPackageGroupName": [group.model_package_group_name],
                    "ModelApprovalStatus": ["Approved"],
                },
            ),
            targets=[targets.SqsQueue(
                self.approvals_queue, dead_letter_queue=self.dead_letter_queue, retry_attempts=retry_attempts,
                max_event_age=Duration.hours(2),
            )],
        )
