"""Threshold-encrypted secret ballots with a homomorphic tally (docs/ballots.md).

No Django and no ``veche.domain`` here: the domain says what a ballot means (its vector
and shape, ``veche.domain.voting.vectors``); this package encrypts such vectors, proves
them well formed, sums them, decrypts only the totals with k of n tellers' shares, and
checks a vote's whole record offline.
"""

from veche.crypto.election.ballots import (
    check_ballot,
    encrypt_ballot,
    normalise_receipt,
    read_ciphertexts,
    receipt,
)
from veche.crypto.election.elgamal import Ciphertext
from veche.crypto.election.group import GroupError, Point
from veche.crypto.election.manifest import (
    Constraint,
    Dealt,
    ElectionError,
    Manifest,
    Shape,
    TellerKey,
    check_manifest,
    deal,
    open_share,
)
from veche.crypto.election.record import Problem, Record, find_receipt, verify_record
from veche.crypto.election.tally import (
    DecryptionShare,
    check_share,
    combine,
    decryption_share,
    discrete_logs,
    sum_ballots,
    sum_ciphertexts,
)

__all__ = [
    "Ciphertext",
    "Constraint",
    "Dealt",
    "DecryptionShare",
    "ElectionError",
    "GroupError",
    "Manifest",
    "Point",
    "Problem",
    "Record",
    "Shape",
    "TellerKey",
    "check_ballot",
    "check_manifest",
    "check_share",
    "combine",
    "deal",
    "decryption_share",
    "discrete_logs",
    "encrypt_ballot",
    "find_receipt",
    "normalise_receipt",
    "open_share",
    "read_ciphertexts",
    "receipt",
    "sum_ballots",
    "sum_ciphertexts",
    "verify_record",
]
